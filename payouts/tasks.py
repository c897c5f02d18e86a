"""Scheduled ledger jobs and payout emails. Tasks take ids and call one service each, which they
import inside their bodies (see `core.tasks`)."""

import logging

from celery import shared_task
from django.core.mail import mail_admins
from django.utils import timezone

from core.tasks import EMAIL_TASK_OPTIONS
from payouts.models import PayoutEvent

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def release_holds() -> int:
    """Move approvals whose hold has ended from pending to available.

    Running twice (or in two workers at once) is harmless: each approval is released at most
    once, by a unique idempotency key and a unique link to the approval. Retries nothing: the next
    scheduled run picks up whatever this one did not finish.
    """
    from payouts import ledger

    return ledger.ledger_hold_release_due(now=timezone.now())


@shared_task(ignore_result=True)
def reconcile_ledger() -> int:
    """Check that every transaction sums to zero and still matches its checksum.

    Read-only, so running twice only repeats the check (and the alert). On a mismatch: an ERROR
    log line and an email to ADMINS. Returns the number of problems found.
    """
    from payouts import ledger

    problems = ledger.ledger_reconcile()
    if problems:
        text = "\n".join(problems)
        logger.error("Ledger reconciliation found %d problem(s):\n%s", len(problems), text)
        mail_admins(f"Ledger reconciliation: {len(problems)} problem(s)", text)
    return len(problems)


class ExchangeRateSourceUnavailable(Exception):
    """The rate source failed in a way worth retrying (network, timeout, 5xx, 429)."""


@shared_task(
    autoretry_for=(ExchangeRateSourceUnavailable,),
    retry_backoff=60,
    retry_backoff_max=60 * 60,
    retry_jitter=True,
    max_retries=6,
    ignore_result=True,
)
def load_exchange_rates() -> int:
    """Load the day's rates from EXCHANGE_RATES_URL (nothing when it is empty).

    A second run, or a retry, sets the same rows to the same rates: harmless. Retries only
    transient failures of the source (network, timeout, 5xx, 429), with backoff and jitter; a 4xx,
    a refused destination or a document that is not a rate document is logged as an error and not
    retried (it would fail the same way). Returns how many rates were loaded.
    """
    from django.conf import settings

    from payouts import exchange_rates

    url = settings.EXCHANGE_RATES_URL
    if not url:
        return 0
    try:
        result = exchange_rates.exchange_rates_load(url=url)
    except exchange_rates.ExchangeRateFeedError as error:
        if error.is_transient:
            logger.warning("Exchange rates from %s: %s (will retry)", url, error)
            raise ExchangeRateSourceUnavailable(str(error)) from error
        logger.error("Exchange rates from %s: %s", url, error)  # noqa: TRY400 - no traceback
        return 0
    if result.skipped:
        logger.warning("Exchange rates from %s: skipped %s", url, "; ".join(result.skipped)[:1000])
    logger.info(
        "Exchange rates from %s: %d of %s for %s", url, result.loaded, result.base, result.date
    )
    return result.loaded


@shared_task(**EMAIL_TASK_OPTIONS)
def send_payout_decision_email(*, payout_id: int, event_id: int) -> None:
    """Email the affiliate one payout decision (the event with `event_id`).

    The email describes that recorded event, not the payout's current state, and nothing is
    written: a second run sends the same text again (harmless) and a late run never announces a
    wrong status. An event that is gone, or that is not a decision, sends nothing. Retries only
    transient failures (network, timeout, the SMTP server hanging up or answering 4xx), with
    backoff and jitter (`core.tasks.EMAIL_TASK_OPTIONS`); never a 5xx refusal, never a missing
    row.
    """
    from payouts import emails

    event = (
        PayoutEvent.objects.select_related("payout__affiliate__user")
        .filter(pk=event_id, payout_id=payout_id, to_status__in=emails.PAYOUT_DECISIONS)
        .first()
    )
    if event is None:
        return
    emails.payout_decision_email_send(event=event)


@shared_task(ignore_result=True)
def draft_monthly_invoices(*, now: str | None = None) -> int:
    """Draft last calendar month's invoice of every advertiser and currency with activity.

    `now` (ISO 8601, default the time it runs) names the month after the one drafted. Running
    twice is harmless: a period has at most one live invoice (a unique constraint, the
    advertiser's receivable locked while drafting), so a second run rebuilds the same drafts
    from the same ledger entries and leaves issued ones alone. Retries nothing: an error is
    logged and the admin can draft the rest with `POST /api/invoices`.
    """
    import datetime as dt

    from payouts import invoices

    at = dt.datetime.fromisoformat(now) if now else timezone.now()
    return len(invoices.invoices_draft_monthly(now=at))


@shared_task(**EMAIL_TASK_OPTIONS)
def send_payout_method_changed_email(
    *, affiliate_id: int, action: str, summary: str, changed_at: str
) -> None:
    """Tell the affiliate that one of its payout methods was created, updated, archived or
    deleted (`summary` names it, masked; `changed_at` is when, ISO 8601).

    The arguments carry the whole message, so a deleted method can still be named; nothing is
    written, so a second run only sends the same text again. An affiliate that is gone sends
    nothing. Retries only transient failures (`core.tasks.EMAIL_TASK_OPTIONS`).
    """
    from accounts.models import Affiliate
    from payouts import emails

    affiliate = Affiliate.objects.select_related("user").filter(pk=affiliate_id).first()
    if affiliate is None:
        return
    emails.payout_method_changed_email_send(
        user=affiliate.user, action=action, summary=summary, changed_at=changed_at
    )
