"""The emails about an affiliate's access to a campaign: what they say and to whom.

Each email is a function returning the `EmailMessage` (tests read it without a mail server)
and a `_send` that hands it to `core.emails.email_message_send`; `campaigns.tasks` loads the
rows and calls the `_send`.
"""

from django.conf import settings
from django.core.mail import EmailMessage

from campaigns.models import AccessStatus, Campaign, CampaignAccess, PayoutType
from core.emails import email_message_send

_DECISION_TEXT = {
    AccessStatus.APPROVED: "has been approved. Get your tracking link in the portal.",
    AccessStatus.REJECTED: "has been rejected.",
    AccessStatus.REVOKED: "has been revoked. Clicks on your link now go to the fallback page.",
    AccessStatus.PENDING: "is waiting for review.",
}


def access_decision_email(*, access: CampaignAccess) -> EmailMessage:
    """Tell the affiliate the current status of its application, with the reason if any."""
    user = access.affiliate.user
    lines = [
        f"Hello {user.name or user.email},",
        "",
        f"Your access to the campaign “{access.campaign.name}” (#{access.campaign_id}) "
        f"{_DECISION_TEXT[AccessStatus(access.status)]}",
    ]
    if access.decision_reason:
        lines += ["", f"Reason: {access.decision_reason}"]
    lines += ["", f"{settings.PUBLIC_BASE_URL}/portal/"]
    return EmailMessage(
        subject=f"Campaign “{access.campaign.name}”: access {access.status}",
        body="\n".join(lines),
        to=[user.email],
    )


def access_decision_email_send(*, access: CampaignAccess) -> None:
    email_message_send(access_decision_email(access=access))


def _payout_terms(campaign: Campaign) -> str:
    if campaign.payout_type == PayoutType.FIXED:
        return f"{campaign.payout_amount} {campaign.currency} per approved conversion"
    return f"{campaign.revshare_percent.normalize():f} % of the revenue of each approved conversion"


def access_invitation_email(*, access: CampaignAccess) -> EmailMessage:
    """Tell the affiliate it was invited into a campaign: its payout terms and where to get its
    link. Never names the advertiser, which affiliates do not see."""
    user = access.affiliate.user
    campaign = access.campaign
    lines = [
        f"Hello {user.name or user.email},",
        "",
        f"You have been invited to promote the campaign “{campaign.name}” (#{campaign.pk}).",
        "Your access is approved: get your tracking link and start sending traffic.",
        "",
        f"Your payout: {_payout_terms(campaign)}.",
        "",
        f"Your campaigns and links: {settings.PUBLIC_BASE_URL}/portal/affiliate/campaigns/",
        f"Through the API: GET {settings.PUBLIC_BASE_URL}/api/campaigns/{campaign.pk}/link",
    ]
    return EmailMessage(
        subject=f"Invitation to the campaign “{campaign.name}”",
        body="\n".join(lines),
        to=[user.email],
    )


def access_invitation_email_send(*, access: CampaignAccess) -> None:
    email_message_send(access_invitation_email(access=access))
