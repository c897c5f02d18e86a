"""Celery conventions shared by every app, and publishing tasks after commit.

Tasks and services. A service decides that something must happen later and enqueues the task
on commit: it imports the task at its module's top and calls
`enqueue_on_commit(task, **ids)`. The task is an entry point: it takes ids and JSON-safe values,
loads its rows, and calls one service (or one `<app>.emails` send), which it imports inside its
body, since that service's module imports the task. A tasks module imports at its top only
Celery, `core` and models. Every task's docstring says why running it twice is harmless and
which errors it retries. Email tasks are declared `@shared_task(**EMAIL_TASK_OPTIONS)`: see
below and `core.emails`. `docs/architecture.md` ("Tasks and services") shows the whole loop.

Publishing after commit. A change that committed must not answer 500 because its follow-up (an
email) could not be queued. `enqueue_on_commit` writes the task into `PendingTask` in the
caller's transaction, publishes it after commit and deletes the row; when the broker refuses
(down, unreachable, the filesystem broker's folder missing) it logs a warning and the row waits
for `republish_pending_tasks`, which beat runs every minute. So a lost publish costs delay, never
the email. Tasks published this way must be harmless to run twice (a publish that succeeded
just before its row could be deleted is published again by the sweep).
"""

import datetime as dt
import logging
from typing import Any

from celery import current_app, shared_task
from django.db import transaction
from django.utils import timezone

from core.models import PendingTask

logger = logging.getLogger(__name__)

# The one retry policy of every task that sends an email. `OSError` is what a refused or dropped
# connection, an unreachable network, DNS, TLS, a timeout and every `smtplib` error raise;
# `core.emails.email_message_send` re-raises the SMTP refusals that cannot succeed later as a
# non-`OSError`, and a bug or a missing row is not an `OSError` either, so neither is retried.
# The waits double from 30 s with full jitter, capped at 30 min (about 1.5 h over 8 retries at
# most): a countdown must stay under the Redis broker's visibility timeout (1 h), past which an
# unacknowledged message is delivered a second time.
EMAIL_TASK_OPTIONS: dict[str, Any] = {
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 8,
    "ignore_result": True,
}

# The commit's own publish gets this long before the sweeper may publish the same row.
SWEEP_GRACE = dt.timedelta(minutes=1)
SWEEP_BATCH = 200
_BACKOFF_MAX = dt.timedelta(hours=1)


def tasks_publish(task: Any, kwargs_list: list[dict[str, Any]], *, countdown: int | None) -> int:
    """Publish `task` once per kwargs; never raises, returns how many were published.

    The broker connection is tried once, with no retry loop, so a request that just committed
    answers at once when the broker is down instead of waiting for kombu's reconnect timeout;
    the failure is logged with the count left unpublished.
    """
    if task.app.conf.task_always_eager:
        for kwargs in kwargs_list:
            task.apply_async(kwargs=kwargs)
        return len(kwargs_list)
    published = 0
    try:
        with task.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=0)
            for kwargs in kwargs_list:
                task.apply_async(kwargs=kwargs, countdown=countdown, retry=False, producer=producer)
                published += 1
    except Exception:
        logger.warning(
            "could not publish %d of %d %s task(s) (first: %s)",
            len(kwargs_list) - published,
            len(kwargs_list),
            task.name,
            kwargs_list[published],
            exc_info=True,
        )
    return published


def enqueue_on_commit(task: Any, **kwargs: Any) -> None:
    """Run `task(**kwargs)` once the current transaction commits, through the outbox above.

    `task` is a task or its registered name: a module may name a task of an app it must not
    import (the app comes after it). `kwargs` must be JSON-safe (ids, strings). Outside a
    transaction the row is written and the task published at once.
    """
    now = timezone.now()
    task_name = task if isinstance(task, str) else task.name
    pending = PendingTask.objects.create(
        task_name=task_name, kwargs=kwargs, created_at=now, next_attempt_at=now + SWEEP_GRACE
    )
    transaction.on_commit(lambda: _publish_and_forget(task, pending.pk, kwargs))


def _publish_and_forget(task: Any, pending_id: int, kwargs: dict[str, Any]) -> None:
    if isinstance(task, str):
        task = _task_named(task)
        if task is None:  # the sweeper reports it
            return
    if tasks_publish(task, [kwargs], countdown=None):
        PendingTask.objects.filter(pk=pending_id).delete()


def _backoff(attempts: int) -> dt.timedelta:
    return min(SWEEP_GRACE * 2 ** min(attempts, 10), _BACKOFF_MAX)


def pending_tasks_republish(*, now: dt.datetime | None = None) -> int:
    """Publish the outbox rows that are due; returns how many were published.

    Rows are claimed with SKIP LOCKED, so two sweeps at once publish each row once. Once the
    broker refuses one, the rest of the batch waits too (its next attempt backs off: 1, 2, 4 ...
    minutes, at most an hour).
    """
    now = now or timezone.now()
    published_ids: list[int] = []
    with transaction.atomic():
        due = list(
            PendingTask.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")[:SWEEP_BATCH]
        )
        is_broker_down = False
        for pending in due:
            task = _task_named(pending.task_name)
            if task is None:
                logger.error("pending task %s: no such task is registered", pending)
                _postpone(pending, now=now, error="no such task is registered")
            elif not is_broker_down and tasks_publish(task, [pending.kwargs], countdown=None):
                published_ids.append(pending.pk)
            else:
                is_broker_down = True
                _postpone(pending, now=now, error="the broker refused the task")
        PendingTask.objects.filter(pk__in=published_ids).delete()
    return len(published_ids)


def _task_named(name: str) -> Any:
    task = current_app.tasks.get(name)
    if task is None:
        # Outside a worker the apps' task modules are imported on first use only.
        current_app.loader.import_default_modules()
        task = current_app.tasks.get(name)
    return task


def _postpone(pending: PendingTask, *, now: dt.datetime, error: str) -> None:
    pending.attempts += 1
    pending.next_attempt_at = now + _backoff(pending.attempts)
    pending.last_error = error
    pending.save(update_fields=["attempts", "next_attempt_at", "last_error"])


@shared_task(ignore_result=True)
def republish_pending_tasks() -> int:
    """Publish the tasks whose publish after commit failed (see the module docstring).

    Running twice at once is harmless: rows are claimed with SKIP LOCKED. Retries nothing: the
    next scheduled run publishes what this one could not.
    """
    return pending_tasks_republish()
