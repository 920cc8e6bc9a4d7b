"""Thin Celery tasks over alerts.pipeline. In the embedded mode bankwatch.jobs runs the same
functions on worker threads. Code that queues one names it (`jobs.enqueue("alerts.process_frame",
frame_id)`); nothing but the task registry imports this module.

Late acknowledgement (settings: CELERY_TASK_ACKS_LATE, reject on worker lost) means a job
whose worker dies is delivered again; pipeline.claim makes that second delivery harmless.
"""

from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.conf import settings

from alerts import pipeline
from bankwatch import jobs


@shared_task(
    name="alerts.process_frame",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    ignore_result=True,
)
def process_frame(frame_id: int) -> dict[str, Any] | None:
    outcome = pipeline.process_frame(frame_id)
    return asdict(outcome) if outcome else None


@shared_task(name="alerts.sweep_frames", ignore_result=True, soft_time_limit=120, time_limit=180)
def sweep_frames() -> dict[str, int]:
    """The periodic sweep (Celery beat): its frames go back on the queue from here."""
    work = pipeline.sweep()
    for frame_id in work.requeue:
        jobs.enqueue("alerts.process_frame", frame_id)
    return work.summary()
