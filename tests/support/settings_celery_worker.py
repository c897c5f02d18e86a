"""Settings of the Celery worker subprocesses that integration tests start (tests.support).

The test settings, plus a short claim (a killed worker's rows come back after 5 s instead of
60 s) and a sweeper every second run by the worker's embedded beat (`-B`).
"""

from config.settings.test import *  # noqa: F403

FORWARDING_CLAIM_SECONDS = 5
CELERY_BEAT_SCHEDULE = {
    "forwarding-sweep-deliveries": {"task": "forwarding.tasks.sweep_deliveries", "schedule": 1.0},
}
