"""Tracker jobs: approving pending conversions when their campaign says so, pruning the postback
log. Each calls one service, imported inside the task's body (services import tasks at the top of
their modules to enqueue them; the other way round would close an import cycle).

Beat schedule (config.settings): `tracker.tasks.auto_approve_conversions` every 5 minutes,
`tracker.tasks.prune_postback_logs` daily.
"""

from celery import shared_task


@shared_task(ignore_result=True)
def auto_approve_conversions() -> int:
    """Approve pending conversions whose campaign's `auto_approve_after_hours` has passed.

    Running twice is harmless: each conversion is locked and must still be pending and due, and
    the second run finds it approved. Retries nothing: the next scheduled run picks up the rest.
    """
    from tracker.services.conversions import conversions_auto_approve_due

    return conversions_auto_approve_due()


@shared_task(ignore_result=True)
def prune_postback_logs() -> int:
    """Delete postback log rows past their retention (refused requests sooner than accepted ones).

    Running twice deletes nothing more. Retries nothing: the next daily run does what this one
    missed.
    """
    from tracker.services.postbacks import postback_logs_prune

    return postback_logs_prune()
