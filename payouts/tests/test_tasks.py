"""`payouts.tasks.send_payout_decision_email`: through a real SMTP server on loopback, retried
on a transient failure; an event that is gone, or is not a decision, sends nothing."""

import smtplib
from decimal import Decimal

import pytest

from core.tests.email_tasks import retries_recorded
from payouts import services, tasks
from payouts.models import PayoutStatus
from payouts.tests.factories import funded_affiliate

pytestmark = pytest.mark.django_db


def _payout():
    affiliate = funded_affiliate(available=Decimal("100"), user__email="pub@x.test")
    return services.payout_request_create(affiliate=affiliate, amount="100", currency="USD")


def test_payout_decision_email_is_retried_after_a_4xx_then_sent_once(smtp_server):
    payout = _payout()
    services.payout_approve(payout=payout, actor=None)
    event = payout.events.get(to_status=PayoutStatus.APPROVED)
    smtp_server.script("451 4.7.1 Please try again later")

    with retries_recorded() as retries:
        result = tasks.send_payout_decision_email.apply(
            kwargs={"payout_id": payout.pk, "event_id": event.pk}
        )

    assert result.successful()
    assert [type(reason) for reason in retries] == [smtplib.SMTPRecipientsRefused]
    assert smtp_server.rcpt_attempts == 2
    assert [(m["Subject"], m["X-Envelope-To"]) for m in smtp_server.messages] == [
        (f"Your ClickLedger payout #{payout.pk}: approved", "pub@x.test")
    ]


def test_payout_decision_email_for_a_missing_or_non_decision_event_ends_quietly(smtp_server):
    payout = _payout()
    requested = payout.events.get(to_status=PayoutStatus.REQUESTED)
    services.payout_approve(payout=payout, actor=None)
    approved = payout.events.get(to_status=PayoutStatus.APPROVED)

    with retries_recorded() as retries:
        results = [
            tasks.send_payout_decision_email.apply(kwargs=kwargs)
            for kwargs in [
                {"payout_id": payout.pk, "event_id": 123456},
                {"payout_id": 123456, "event_id": approved.pk},  # not this payout's event
                {"payout_id": payout.pk, "event_id": requested.pk},
            ]
        ]

    assert [result.successful() for result in results] == [True, True, True]
    assert retries == []
    assert smtp_server.rcpt_attempts == 0
