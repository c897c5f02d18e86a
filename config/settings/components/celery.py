"""Celery: the broker, how tasks are run and acknowledged, and the beat schedule."""

from celery.schedules import crontab

from config.env import BASE_DIR, env

# Default: kombu's filesystem transport, so the quickstart runs a real worker with no broker server.
# The host is ignored by that transport, but without one kombu logs a warning at every publish.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BASE_DIR / "var" / "broker"),
        "data_folder_out": str(BASE_DIR / "var" / "broker"),
        "processed_folder": str(BASE_DIR / "var" / "broker-processed"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem://")
    else {"visibility_timeout": 3600}
)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

CELERY_BEAT_SCHEDULE: dict = {
    # Publishes the tasks (emails) whose publish after commit the broker refused (core.tasks).
    "core-republish-pending-tasks": {
        "task": "core.tasks.republish_pending_tasks",
        "schedule": 60.0,
    },
    # Re-queues due and stuck forwarding deliveries (outbox) and disables endpoints failing 5 days.
    "forwarding-sweep-deliveries": {
        "task": "forwarding.tasks.sweep_deliveries",
        "schedule": 30.0,
    },
    "tracker-auto-approve": {
        "task": "tracker.tasks.auto_approve_conversions",
        "schedule": crontab(minute="*/5"),
    },
    # Moves approved payouts from pending to available once their hold period is over.
    "payouts-release-holds": {
        "task": "payouts.tasks.release_holds",
        "schedule": crontab(minute="*/10"),
    },
    # Drafts last month's advertiser invoices (the admin reviews and issues them).
    "payouts-draft-monthly-invoices": {
        "task": "payouts.tasks.draft_monthly_invoices",
        "schedule": crontab(day_of_month=1, hour=2, minute=7),
    },
    # Re-adds every ledger transaction and checksum; alerts ADMINS on any mismatch.
    "payouts-reconcile-ledger": {
        "task": "payouts.tasks.reconcile_ledger",
        "schedule": crontab(hour=3, minute=17),
    },
    # Loads the day's exchange rates from EXCHANGE_RATES_URL (does nothing when it is empty).
    # The ECB publishes around 16:00 CET; a second run the same day rewrites the same rows.
    "payouts-load-exchange-rates": {
        "task": "payouts.tasks.load_exchange_rates",
        "schedule": crontab(hour=16, minute=35),
    },
    # Folds new clicks and conversion status changes into the hourly rollups (freshness < 60 s).
    "reporting-refresh-rollups": {"task": "reporting.tasks.refresh_rollups", "schedule": 15.0},
    # Deletes postback log rows past their retention (refused requests go sooner).
    "tracker-prune-postback-logs": {
        "task": "tracker.tasks.prune_postback_logs",
        "schedule": crontab(hour=4, minute=53),
    },
    # Deletes raw clicks past CLICK_RETENTION_DAYS that never converted (rollups keep the counts).
    "reporting-prune-clicks": {
        "task": "reporting.tasks.prune_clicks",
        "schedule": crontab(hour=4, minute=41),
    },
}
