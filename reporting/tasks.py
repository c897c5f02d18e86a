"""Reporting jobs: keep the rollups fresh, prune old raw clicks. Each calls one service, imported
inside its body (the convention of every app's tasks: services import tasks, not the reverse).

Beat schedule (config.settings): `reporting.tasks.refresh_rollups` every 15 s,
`reporting.tasks.prune_clicks` daily.
"""

from celery import shared_task


@shared_task(ignore_result=True, expires=60)
def refresh_rollups() -> int:
    """Recompute the rollup hours touched since the last run (clicks and status changes).

    A second run at the same time returns at once (the watermark rows are locked with SKIP
    LOCKED); a repeated run recomputes the same hours to the same values. Retries nothing: the
    next beat tick (15 s) does what this one missed. Returns the number of hours recomputed.
    """
    from reporting.services.rollups import stats_refresh

    result = stats_refresh()
    return result.click_hours + result.conversion_hours


@shared_task(ignore_result=True)
def prune_clicks() -> int:
    """Delete raw clicks past CLICK_RETENTION_DAYS that never converted (rollups keep them).

    Batches of 10,000, each its own transaction; a second run finds nothing more to delete.
    Retries nothing: tomorrow's run continues where this one stopped.
    """
    from reporting.services.rollups import clicks_prune

    return clicks_prune()


# The names these tasks had before reporting became an app of its own: messages already waiting
# in a broker, and beat schedules not yet restarted, still find them. Kept for one release.
@shared_task(name="tracker.tasks_reports.refresh_rollups", ignore_result=True, expires=60)
def _refresh_rollups_by_former_name() -> int:
    return refresh_rollups()


@shared_task(name="tracker.tasks_reports.prune_clicks", ignore_result=True)
def _prune_clicks_by_former_name() -> int:
    return prune_clicks()
