"""The Celery app: tasks from each app's `tasks.py`; the beat schedule is declared in code."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("clickledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
