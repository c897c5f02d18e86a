"""`campaigns.emails`: the exact text of the access decision and invitation emails."""

from decimal import Decimal

import pytest

from accounts.tests.factories import AdvertiserFactory, AffiliateFactory
from campaigns.emails import access_decision_email, access_invitation_email
from campaigns.models import AccessStatus, PayoutType
from campaigns.tests.factories import CampaignAccessFactory, CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        (AccessStatus.APPROVED, "has been approved. Get your tracking link in the portal."),
        (AccessStatus.REJECTED, "has been rejected."),
        (
            AccessStatus.REVOKED,
            "has been revoked. Clicks on your link now go to the fallback page.",
        ),
        (AccessStatus.PENDING, "is waiting for review."),
    ],
)
def test_access_decision_email_states_the_status_and_the_reason(status, sentence, settings):
    access = CampaignAccessFactory(
        status=status,
        decision_reason="Traffic quality",
        campaign__name="Summer",
        affiliate__user__email="pub@x.test",
        affiliate__user__name="Pat",
    )

    email = access_decision_email(access=access)

    assert (email.subject, email.to, email.cc, email.bcc, email.from_email) == (
        f"Campaign “Summer”: access {status}",
        ["pub@x.test"],
        [],
        [],
        settings.DEFAULT_FROM_EMAIL,
    )
    assert email.body.splitlines() == [
        "Hello Pat,",
        "",
        f"Your access to the campaign “Summer” (#{access.campaign_id}) {sentence}",
        "",
        "Reason: Traffic quality",
        "",
        "http://testserver/portal/",
    ]


def test_access_decision_email_without_reason_or_name_greets_the_address():
    access = CampaignAccessFactory(
        status=AccessStatus.APPROVED,
        campaign__name="Summer",
        affiliate__user__email="pub@x.test",
        affiliate__user__name="",
    )

    email = access_decision_email(access=access)

    assert email.body == (
        "Hello pub@x.test,\n"
        "\n"
        f"Your access to the campaign “Summer” (#{access.campaign_id}) has been approved. "
        "Get your tracking link in the portal.\n"
        "\n"
        "http://testserver/portal/"
    )


def test_invitation_email_gives_a_fixed_payout_and_never_names_the_advertiser(settings):
    campaign = CampaignFactory(
        advertiser=AdvertiserFactory(company="Secret Advertiser Ltd"),
        name="VIP",
        payout_type=PayoutType.FIXED,
        payout_amount=Decimal("2.5"),
        currency="EUR",
    )
    campaign.refresh_from_db()  # the amount as the task reads it
    access = CampaignAccessFactory(
        campaign=campaign, affiliate=AffiliateFactory(user__email="pub@x.test", user__name="Pat")
    )

    email = access_invitation_email(access=access)

    assert (email.subject, email.to, email.cc, email.bcc, email.from_email) == (
        "Invitation to the campaign “VIP”",
        ["pub@x.test"],
        [],
        [],
        settings.DEFAULT_FROM_EMAIL,
    )
    assert email.body.splitlines() == [
        "Hello Pat,",
        "",
        f"You have been invited to promote the campaign “VIP” (#{campaign.pk}).",
        "Your access is approved: get your tracking link and start sending traffic.",
        "",
        "Your payout: 2.5000 EUR per approved conversion.",
        "",
        "Your campaigns and links: http://testserver/portal/affiliate/campaigns/",
        f"Through the API: GET http://testserver/api/campaigns/{campaign.pk}/link",
    ]
    assert "Secret" not in email.subject + email.body


def test_invitation_email_gives_a_revshare_payout_as_a_plain_percentage():
    campaign = CampaignFactory(payout_type=PayoutType.REVSHARE, revshare_percent=Decimal("80.00"))
    campaign.refresh_from_db()
    access = CampaignAccessFactory(campaign=campaign)

    email = access_invitation_email(access=access)

    assert "Your payout: 80 % of the revenue of each approved conversion." in (
        email.body.splitlines()
    )
