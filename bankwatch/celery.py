"""The Celery app. In production `celery -A bankwatch worker` runs the jobs; in the
embedded mode bankwatch.jobs runs the same task functions on threads in the server."""

import logging
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankwatch.settings")

app = Celery("bankwatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def load_models_in_each_worker_process(**kwargs: object) -> None:
    """Each pool process loads the recognition models when it starts, not during its first job
    (where the load would count against the job's time limit)."""
    from bankwatch import jobs

    try:
        jobs.run("recognition.warm_up")
    except Exception:
        logging.getLogger(__name__).exception("models not loaded at start; the first job will load them")
