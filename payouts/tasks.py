"""Scheduled ledger jobs and payout emails. Tasks take ids and call one service each."""

import logging

from celery import shared_task
from django.core.mail import mail_admins
from django.utils import timezone

from payouts import ledger, services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def release_holds() -> int:
    """Move approvals whose hold has ended from pending to available.

    Running twice (or in two workers at once) is harmless: each approval is released at most
    once, by a unique idempotency key and a unique link to the approval. Retries nothing: the next
    scheduled run picks up whatever this one did not finish.
    """
    return ledger.ledger_hold_release_due(now=timezone.now())


@shared_task(ignore_result=True)
def reconcile_ledger() -> int:
    """Check that every transaction sums to zero and still matches its checksum.

    Read-only, so running twice only repeats the check (and the alert). On a mismatch: an ERROR
    log line and an email to ADMINS. Returns the number of problems found.
    """
    problems = ledger.ledger_reconcile()
    if problems:
        text = "\n".join(problems)
        logger.error("Ledger reconciliation found %d problem(s):\n%s", len(problems), text)
        mail_admins(f"Ledger reconciliation: {len(problems)} problem(s)", text)
    return len(problems)


@shared_task(ignore_result=True)
def send_payout_decision_email(*, payout_id: int, event_id: int) -> None:
    """Email the affiliate one payout decision (the event with `event_id`).

    The email describes that recorded event, not the payout's current state, so a second run
    sends the same text again (harmless) and a late run never announces a wrong status. Retries
    nothing: an SMTP failure is logged by Celery and not re-sent.
    """
    services.payout_decision_email_send(payout_id=payout_id, event_id=event_id)
