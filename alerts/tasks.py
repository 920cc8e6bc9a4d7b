"""Thin Celery tasks over alerts.pipeline. In the embedded mode bankwatch.jobs runs the same
functions on worker threads. Code that queues one names it (`jobs.enqueue("alerts.process_frame",
frame_id, camera_id, captured_at, data)`); nothing but the task registry imports this module.

A frame's job carries its bytes. Late acknowledgement (settings: CELERY_TASK_ACKS_LATE, reject on
worker lost, the broker's visibility timeout) means a job whose worker dies is delivered again;
alerts.frame_queue's claim makes that second delivery harmless. A failed attempt is retried up to
BANKWATCH_FRAME_MAX_ATTEMPTS times; a job that finds the frame in work elsewhere waits for that claim.
"""

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from alerts import acknowledgement, frame_queue, mail, pipeline


@shared_task(
    bind=True,
    name="alerts.process_frame",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    ignore_result=True,
)
def process_frame(self: Task, frame_id: int, camera_id: int, captured_at: str, data: bytes) -> dict[str, Any] | None:
    try:
        outcome = pipeline.process_frame(frame_id, camera_id, captured_at, data)
    except frame_queue.ClaimHeldError as held:
        raise self.retry(countdown=held.seconds + 1, max_retries=None) from None
    except Exception as exc:
        if self.request.retries + 1 >= settings.FRAME_MAX_ATTEMPTS:
            raise
        raise self.retry(exc=exc, countdown=1 + self.request.retries, max_retries=settings.FRAME_MAX_ATTEMPTS) from None
    return {"frame_id": outcome.frame_id, "faces": outcome.faces, "matches": outcome.matches} if outcome else None


@shared_task(name="alerts.sweep_frames", ignore_result=True, soft_time_limit=120, time_limit=180)
def sweep_frames() -> dict[str, int]:
    """The periodic sweep (Celery beat): the agreement's expired pending rows."""
    return pipeline.sweep().summary()


@shared_task(name="alerts.check_acknowledgements", ignore_result=True, soft_time_limit=60, time_limit=90)
def check_acknowledgements() -> dict[str, int]:
    """The periodic check (Celery beat): alerts still new past their watchlist's acknowledgement deadline."""
    return acknowledgement.check_acknowledgements()


@shared_task(name="alerts.send_alert_mail", ignore_result=True, soft_time_limit=60, time_limit=90)
def send_alert_mail(kind: str, alert_id: int) -> int:
    """One alert's e-mail (alerts/mail.py), off the request and off the recognition job."""
    return mail.send_alert_mail(kind, alert_id)
