"""The emails of the account approval flow: what they say and to whom.

Each email is a function returning the `EmailMessage` (tests read it without a mail server)
and a `_send` that hands it to `core.emails.email_message_send`; `accounts.tasks` loads the
rows and calls the `_send`.
"""

from django.conf import settings
from django.core.mail import EmailMessage

from accounts.models import ApprovalStatus, PartnerProfile, Role, User
from core.emails import email_message_send

_STATUS_TEXT = {
    ApprovalStatus.APPROVED: "has been approved. You can now log in and start working.",
    ApprovalStatus.REJECTED: "has been rejected.",
    ApprovalStatus.SUSPENDED: "has been suspended. Tracking and payouts are on hold.",
    ApprovalStatus.PENDING: "is waiting for review.",
}


def partner_status_email(*, user: User, profile: PartnerProfile) -> EmailMessage:
    """Tell an advertiser or affiliate its account's current status, with the reason if any."""
    role = "advertiser" if user.role == Role.ADVERTISER else "affiliate"
    lines = [
        f"Hello {user.name or user.email},",
        "",
        f"Your ClickLedger {role} account {_STATUS_TEXT[ApprovalStatus(profile.status)]}",
    ]
    if profile.status_reason:
        lines += ["", f"Reason: {profile.status_reason}"]
    if profile.status == ApprovalStatus.APPROVED:
        lines += ["", f"Log in at {settings.PUBLIC_BASE_URL}/portal/"]
    return EmailMessage(
        subject=f"Your ClickLedger account: {profile.status}",
        body="\n".join(lines),
        to=[user.email],
    )


def partner_status_email_send(*, user: User, profile: PartnerProfile) -> None:
    email_message_send(partner_status_email(user=user, profile=profile))
