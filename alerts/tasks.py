"""Thin Celery tasks over alerts.pipeline. In the embedded mode bankwatch.jobs runs the same
functions on worker threads.

Late acknowledgement (settings: CELERY_TASK_ACKS_LATE, reject on worker lost) means a job
whose worker dies is delivered again; pipeline.claim makes that second delivery harmless.
"""

from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.conf import settings


@shared_task(
    name="alerts.process_frame",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    ignore_result=True,
)
def process_frame(frame_id: int) -> dict[str, Any] | None:
    from alerts import pipeline

    outcome = pipeline.process_frame(frame_id)
    return asdict(outcome) if outcome else None


@shared_task(name="alerts.sweep_frames", ignore_result=True, soft_time_limit=120, time_limit=180)
def sweep_frames() -> dict[str, int]:
    from alerts import pipeline

    return pipeline.sweep()
