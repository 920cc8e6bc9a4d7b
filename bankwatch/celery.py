"""The Celery app. In production `celery -A bankwatch worker` runs the jobs; in the
embedded mode bankwatch.jobs runs the same task functions on threads in the server."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankwatch.settings")

app = Celery("bankwatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
