"""`accounts.emails`: the exact text of the partner status email, for each status."""

import pytest

from accounts.emails import partner_status_email
from accounts.models import ApprovalStatus
from accounts.tests.factories import AdvertiserFactory, AffiliateFactory

pytestmark = pytest.mark.django_db


def test_approved_affiliate_is_greeted_by_name_and_told_where_to_log_in(settings):
    affiliate = AffiliateFactory(
        status=ApprovalStatus.APPROVED, user__email="pub@x.test", user__name="Pat"
    )

    email = partner_status_email(user=affiliate.user, profile=affiliate)

    assert (email.subject, email.to, email.cc, email.bcc) == (
        "Your ClickLedger account: approved",
        ["pub@x.test"],
        [],
        [],
    )
    assert email.from_email == settings.DEFAULT_FROM_EMAIL
    assert email.body == (
        "Hello Pat,\n"
        "\n"
        "Your ClickLedger affiliate account has been approved. You can now log in and start "
        "working.\n"
        "\n"
        "Log in at http://testserver/portal/"
    )


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        (ApprovalStatus.REJECTED, "has been rejected."),
        (ApprovalStatus.SUSPENDED, "has been suspended. Tracking and payouts are on hold."),
        (ApprovalStatus.PENDING, "is waiting for review."),
    ],
)
def test_other_statuses_give_the_reason_and_no_login_link(status, sentence):
    advertiser = AdvertiserFactory(
        status=status, status_reason="Incomplete details", user__email="adv@x.test", user__name=""
    )

    email = partner_status_email(user=advertiser.user, profile=advertiser)

    assert (email.subject, email.to) == (f"Your ClickLedger account: {status}", ["adv@x.test"])
    assert email.body.splitlines() == [
        "Hello adv@x.test,",
        "",
        f"Your ClickLedger advertiser account {sentence}",
        "",
        "Reason: Incomplete details",
    ]


def test_no_reason_line_without_a_reason():
    affiliate = AffiliateFactory(status=ApprovalStatus.REJECTED, user__name="Pat")

    email = partner_status_email(user=affiliate.user, profile=affiliate)

    assert email.body.splitlines() == [
        "Hello Pat,",
        "",
        "Your ClickLedger affiliate account has been rejected.",
    ]
