"""`accounts.tasks`: the partner status email goes through a real SMTP server on loopback,
retried on a transient failure, and a user gone before the task runs ends it quietly."""

import smtplib

import pytest

from accounts import tasks
from accounts.models import ApprovalStatus, Role
from accounts.tests.factories import AffiliateFactory, UserFactory
from core.tests.email_tasks import retries_recorded

pytestmark = pytest.mark.django_db


def test_partner_status_email_is_retried_after_a_4xx_then_sent_once(smtp_server):
    affiliate = AffiliateFactory(
        status=ApprovalStatus.SUSPENDED, user__email="pub@x.test", user__name="Pat"
    )
    smtp_server.script("451 4.3.0 Try again later")

    with retries_recorded() as retries:
        result = tasks.send_partner_status_email.apply(kwargs={"user_id": affiliate.pk})

    assert result.successful()
    assert [type(reason) for reason in retries] == [smtplib.SMTPRecipientsRefused]
    assert smtp_server.rcpt_attempts == 2
    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert (received["Subject"], received["To"], received["X-Envelope-To"]) == (
        "Your ClickLedger account: suspended",
        "pub@x.test",
        "pub@x.test",
    )
    assert received.get_content().splitlines() == [
        "Hello Pat,",
        "",
        "Your ClickLedger affiliate account has been suspended. Tracking and payouts are on hold.",
    ]


def test_partner_status_email_for_a_deleted_user_or_a_user_without_profile_sends_nothing(
    smtp_server,
):
    admin = UserFactory(role=Role.ADMIN)

    with retries_recorded() as retries:
        gone = tasks.send_partner_status_email.apply(kwargs={"user_id": 123456})
        no_profile = tasks.send_partner_status_email.apply(kwargs={"user_id": admin.pk})

    assert gone.successful()
    assert no_profile.successful()
    assert retries == []
    assert smtp_server.rcpt_attempts == 0
