"""The Celery app: tasks from each app's `tasks.py`; the beat schedule is declared in code.

Workers and beat default to the production settings, like the web entry point (config/wsgi.py):
the local settings let forwards reach private addresses. The quickstart sets the local settings
explicitly; `manage.py`, a developer's tool, keeps them as its default.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("clickledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
