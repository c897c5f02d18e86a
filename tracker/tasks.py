"""Forwarding and approval jobs. Each task takes ids (or nothing) and calls one service.

Beat schedule (config/settings/base.py CELERY_BEAT_SCHEDULE):

    "tracker-sweep-deliveries": {"task": "tracker.tasks.sweep_deliveries", "schedule": 30.0},
    "tracker-auto-approve": {"task": "tracker.tasks.auto_approve_conversions",
                             "schedule": crontab(minute="*/5")},
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from tracker.services import forwarding, postbacks

# The database being briefly unreachable is the one failure worth a Celery retry here; the
# delivery's own schedule (in its row) handles everything the receiver does wrong.
_TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    ignore_result=True,
    autoretry_for=_TRANSIENT_DB_ERRORS,
    retry_backoff=5,
    retry_backoff_max=forwarding.MAX_COUNTDOWN_SECONDS,
    retry_jitter=True,
    max_retries=5,
)
def deliver(*, delivery_id: int) -> None:
    """Make one attempt of a due delivery.

    A second run (duplicate message, sweeper re-queue, redelivery after a killed worker) is
    harmless: the row is claimed with a conditional UPDATE, so only a due, unclaimed row is sent,
    and a delivered one never again. Retries only transient database errors (with backoff, never
    beyond 300 s); HTTP failures are rescheduled in the row, not by Celery.
    """
    forwarding.delivery_attempt(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def sweep_deliveries() -> int:
    """Queue deliveries that are due or whose claim expired, and disable endpoints failing 5 days.

    Running twice (or in two beat instances) only publishes duplicate messages, which the claim
    turns into no-ops; disabling is a conditional UPDATE, so each endpoint is disabled and its
    owner emailed once. Retries nothing: the next scheduled run does what this one missed.
    """
    forwarding.endpoints_disable_failing()
    return forwarding.deliveries_requeue_due()


@shared_task(ignore_result=True)
def auto_approve_conversions() -> int:
    """Approve pending conversions whose campaign's `auto_approve_after_hours` has passed.

    Running twice is harmless: each conversion is locked and must still be pending and due, and
    the second run finds it approved. Retries nothing: the next scheduled run picks up the rest.
    """
    return forwarding.conversions_auto_approve_due()


@shared_task(ignore_result=True)
def send_endpoint_disabled_email(*, endpoint_id: int) -> None:
    """Tell an affiliate that one of its postback endpoints was disabled.

    The text states the endpoint's current state (read when the task runs), so a second run sends
    the same email again (harmless) and an endpoint re-enabled meanwhile sends nothing. Retries
    nothing: an SMTP failure is logged by Celery and not re-sent.
    """
    forwarding.endpoint_disabled_email_send(endpoint_id=endpoint_id)


@shared_task(ignore_result=True)
def prune_postback_logs() -> int:
    """Delete postback log rows past their retention (refused requests sooner than accepted ones).

    Running twice deletes nothing more. Retries nothing: the next daily run does what this one
    missed.
    """
    return postbacks.postback_logs_prune()
