"""Thin Celery tasks over alerts.pipeline. In the embedded mode bankwatch.jobs runs the same
functions on worker threads. Code that queues one names it (`jobs.enqueue("alerts.process_frame")`
once per frame put in alerts.frame_queue); nothing but the task registry imports this module.

A frame job takes the fair next frame (round-robin across cameras); a retry carries its frame's
bytes. Late acknowledgement (settings: CELERY_TASK_ACKS_LATE, reject on worker lost, the broker's
visibility timeout) means a job whose worker dies is delivered again; it then takes the dead
worker's frame back (alerts.frame_queue keeps a taken frame until it is finished), and the
frame's claim makes any second run harmless. A failed attempt is retried up to
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
def process_frame(self: Task, *frame: Any) -> dict[str, Any] | None:
    """Without arguments (as queued): the fair next frame of any camera (alerts/frame_queue.take).
    With a frame's (frame_id, camera_id, captured_at, data): that frame (a retry, or a message
    queued before frames waited in per-camera queues)."""
    job = frame_queue.Job(*frame) if frame else frame_queue.take()
    if job is None:
        return None  # this job's frame was taken by another (a retry, or the one after a worker died)
    try:
        outcome = pipeline.process_frame(*job.args())
    except frame_queue.ClaimHeldError as held:
        raise self.retry(args=job.args(), countdown=held.seconds + 1, max_retries=None) from None
    except Exception as exc:
        if self.request.retries + 1 >= settings.FRAME_MAX_ATTEMPTS:
            frame_queue.drop(job.camera_id, job.frame_id)
            raise
        raise self.retry(
            args=job.args(), exc=exc, countdown=1 + self.request.retries, max_retries=settings.FRAME_MAX_ATTEMPTS
        ) from None
    return {"frame_id": outcome.frame_id, "faces": outcome.faces, "matches": outcome.matches} if outcome else None


@shared_task(name="alerts.sweep_frames", ignore_result=True, soft_time_limit=120, time_limit=180)
def sweep_frames() -> dict[str, int]:
    """The periodic sweep (Celery beat): the agreement's expired pending rows."""
    return pipeline.sweep().summary()


@shared_task(name="alerts.check_acknowledgements", ignore_result=True, soft_time_limit=60, time_limit=90)
def check_acknowledgements() -> dict[str, int]:
    """The periodic check (Celery beat): alerts still new past their watchlist's acknowledgement deadline."""
    return acknowledgement.check_acknowledgements()


# On the outbound lane (bankwatch/jobs.py): a slow mail server never holds up a recognition job.
@shared_task(name="alerts.send_alert_mail", lane="outbound", ignore_result=True, soft_time_limit=60, time_limit=90)
def send_alert_mail(kind: str, alert_id: int) -> int:
    """One alert's e-mail (alerts/mail.py), off the request and off the recognition job."""
    return mail.send_alert_mail(kind, alert_id)
