"""`payouts.tasks`: releasing due holds, the daily reconciliation (quiet on a clean ledger, logged
and emailed to the admins on a mismatch), and the payout decision email, which describes its
event and goes through a real SMTP server on loopback, retried on a transient failure; an event
that is gone, or is not a decision, sends nothing."""

import logging
import smtplib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import AdminUserFactory
from core.tests.email_tasks import retries_recorded
from payouts import services, tasks
from payouts.models import LedgerEntry, PayoutStatus
from payouts.tests.factories import conversion_approve, funded_affiliate

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


def test_release_holds_task_releases_due_holds():
    affiliate = funded_affiliate(available=Decimal("0.0001"))
    conversion_approve(
        affiliate=affiliate, payout=Decimal("5"), hold_days=1, at=timezone.now() - timedelta(days=2)
    )

    assert tasks.release_holds() == 1
    assert tasks.release_holds() == 0


def test_reconcile_task_is_quiet_on_a_clean_ledger(caplog):
    conversion_approve(affiliate=funded_affiliate(available=Decimal("1")), payout=Decimal("2"))

    with caplog.at_level(logging.ERROR, logger="payouts.tasks"):
        problems = tasks.reconcile_ledger()

    assert problems == 0
    assert caplog.records == []
    assert mail.outbox == []


def test_reconcile_task_logs_and_emails_admins_on_a_mismatch(settings, caplog):
    # given: an entry altered with the user triggers skipped
    settings.ADMINS = [("Ops", "ops@example.test")]
    _, txn = conversion_approve(
        affiliate=funded_affiliate(available=Decimal("1")), payout=Decimal("2")
    )
    entry = LedgerEntry.objects.filter(transaction=txn).order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM payouts_ledgerentry WHERE id = %s", [entry.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")

    # when
    with caplog.at_level(logging.ERROR, logger="payouts.tasks"):
        problems = tasks.reconcile_ledger()

    # then
    assert problems == 2
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.test"]
    assert mail.outbox[0].subject.endswith("Ledger reconciliation: 2 problem(s)")
    assert f"transaction {txn.pk} does not match its checksum" in mail.outbox[0].body


def test_decision_email_task_describes_the_event_not_the_current_status():
    # given: approved, then paid; the approval email is sent late
    admin = AdminUserFactory()
    payout = services.payout_request_create(
        affiliate=funded_affiliate(available=Decimal("100"), user__email="a@example.test"),
        amount="100",
        currency="USD",
    )
    services.payout_approve(payout=payout, actor=admin)
    services.payout_mark_paid(payout=payout, actor=admin, reference="R-7")
    approval_event = payout.events.get(to_status=PayoutStatus.APPROVED)

    # when
    tasks.send_payout_decision_email(payout_id=payout.pk, event_id=approval_event.pk)
    tasks.send_payout_decision_email(payout_id=payout.pk, event_id=approval_event.pk)

    # then
    assert [m.subject for m in mail.outbox] == [
        f"Your ClickLedger payout #{payout.pk}: approved",
        f"Your ClickLedger payout #{payout.pk}: approved",
    ]
    assert mail.outbox[0].body == (
        f"Hello {payout.affiliate.user.name},\n\nYour payout request #{payout.pk} of $100.00 "
        "has been approved and will be paid soon."
    )
