"""Forwarding jobs. Each task takes ids (or nothing) and calls one service, imported inside its
body: services import these tasks at the top of their modules to enqueue them, so a task that
imported its service at the top would close an import cycle.

Beat schedule (config.settings): `forwarding.tasks.sweep_deliveries` every 30 s.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from core.tasks import EMAIL_TASK_OPTIONS
from forwarding.models import PostbackEndpoint

# The database being briefly unreachable is the one failure worth a Celery retry here; the
# delivery's own schedule (in its row) handles everything the receiver does wrong.
_TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)
# Longer waits are not handed to Celery (a countdown sits in the broker, invisible and fragile):
# the sweeper queues them when the row's `next_attempt_at` comes.
MAX_COUNTDOWN_SECONDS = 300


@shared_task(
    ignore_result=True,
    autoretry_for=_TRANSIENT_DB_ERRORS,
    retry_backoff=5,
    retry_backoff_max=MAX_COUNTDOWN_SECONDS,
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
    from forwarding.services.delivery import delivery_attempt

    delivery_attempt(delivery_id=delivery_id)


@shared_task(
    ignore_result=True,
    autoretry_for=_TRANSIENT_DB_ERRORS,
    retry_backoff=5,
    retry_backoff_max=MAX_COUNTDOWN_SECONDS,
    retry_jitter=True,
    max_retries=5,
)
def dispatch_operator_event(*, event_id: int) -> None:
    """Turn one network event into a delivery per subscribed operator webhook.

    Published by `core.operator_events` after the event's transaction commits (by name: core
    cannot import this app). A second run is harmless: a dispatched event is skipped and
    (webhook, event) is unique. Retries only transient database errors; the sweeper dispatches
    whatever is still undispatched a minute later.
    """
    from forwarding.services.operator_webhooks import operator_event_dispatch

    operator_event_dispatch(event_id=event_id)


@shared_task(ignore_result=True)
def sweep_deliveries() -> int:
    """Queue deliveries that are due or whose claim expired, dispatch operator events left
    undispatched, and disable endpoints failing 5 days.

    Running twice (or in two beat instances) only publishes duplicate messages, which the claim
    turns into no-ops; dispatching locks each event and marks it; disabling is a conditional
    UPDATE, so each endpoint is disabled and its owner emailed once. Retries nothing: the next
    scheduled run does what this one missed.
    """
    from forwarding.services.endpoints import endpoints_disable_failing
    from forwarding.services.operator_webhooks import operator_events_dispatch_due
    from forwarding.services.outbox import deliveries_requeue_due

    endpoints_disable_failing()
    operator_events_dispatch_due()
    return deliveries_requeue_due()


@shared_task(**EMAIL_TASK_OPTIONS)
def send_endpoint_disabled_email(*, endpoint_id: int) -> None:
    """Tell an affiliate that one of its postback endpoints was disabled, and why.

    The text states the endpoint's current state (read when the task runs), so a second run sends
    the same email again (harmless), and an endpoint deleted or re-enabled meanwhile sends
    nothing. Retries only transient failures (network, timeout, the SMTP server hanging up or
    answering 4xx), with backoff and jitter (`core.tasks.EMAIL_TASK_OPTIONS`); never a 5xx
    refusal, never a missing row.
    """
    from forwarding import emails

    endpoint = (
        PostbackEndpoint.objects.select_related("affiliate__user")
        .filter(pk=endpoint_id, is_active=False)
        .first()
    )
    if endpoint is None:
        return
    emails.endpoint_disabled_email_send(endpoint=endpoint)


# The names these tasks had before forwarding became an app of its own: messages already waiting
# in a broker, and beat schedules not yet restarted, still find them. Kept for one release.
@shared_task(name="tracker.tasks.deliver", ignore_result=True)
def _deliver_by_former_name(*, delivery_id: int) -> None:
    deliver(delivery_id=delivery_id)


@shared_task(name="tracker.tasks.sweep_deliveries", ignore_result=True)
def _sweep_deliveries_by_former_name() -> int:
    return sweep_deliveries()


@shared_task(name="tracker.tasks.send_endpoint_disabled_email", **EMAIL_TASK_OPTIONS)
def _send_endpoint_disabled_email_by_former_name(*, endpoint_id: int) -> None:
    send_endpoint_disabled_email(endpoint_id=endpoint_id)
