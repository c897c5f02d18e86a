"""Settings of the Celery worker subprocesses started by the forwarding integration tests.

The test settings, plus a short claim (a killed worker's rows come back after 5 s instead of
60 s) and a sweeper every second run by the worker's embedded beat (`-B`).
"""

from config.settings.test import *  # noqa: F403

FORWARDING_CLAIM_SECONDS = 5
CELERY_BEAT_SCHEDULE = {
    "tracker-sweep-deliveries": {"task": "tracker.tasks.sweep_deliveries", "schedule": 1.0},
}
