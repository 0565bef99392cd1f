"""The Celery application: configured from Django settings (CELERY_*), tasks found in apps/*/tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ritualcriteria.settings.local")

app = Celery("ritualcriteria")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
