"""Reporting jobs: keep the rollups fresh, prune old raw clicks. Each calls one service.

Beat schedule (the lead adds these to config/settings/base.py CELERY_BEAT_SCHEDULE):

    "tracker-refresh-rollups": {"task": "tracker.tasks_reports.refresh_rollups", "schedule": 15.0},
    "tracker-prune-clicks": {"task": "tracker.tasks_reports.prune_clicks",
                             "schedule": crontab(hour=4, minute=41)},
"""

from celery import shared_task

from tracker.services import stats


@shared_task(ignore_result=True, expires=60)
def refresh_rollups() -> int:
    """Recompute the rollup hours touched since the last run (clicks and status changes).

    A second run at the same time returns at once (the watermark rows are locked with SKIP
    LOCKED); a repeated run recomputes the same hours to the same values. Retries nothing: the
    next beat tick (15 s) does what this one missed. Returns the number of hours recomputed.
    """
    result = stats.stats_refresh()
    return result.click_hours + result.conversion_hours


@shared_task(ignore_result=True)
def prune_clicks() -> int:
    """Delete raw clicks past CLICK_RETENTION_DAYS that never converted (rollups keep them).

    Batches of 10,000, each its own transaction; a second run finds nothing more to delete.
    Retries nothing: tomorrow's run continues where this one stopped.
    """
    return stats.clicks_prune()
