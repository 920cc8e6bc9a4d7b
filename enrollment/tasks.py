"""Thin Celery tasks over the enrollment domain. Code that queues one names it
(`jobs.enqueue("enrollment.enroll_photo", photo_id)`); nothing but the task registry imports this module.
"""

from celery import shared_task
from django.conf import settings

from enrollment import actions, importer

# A bulk import creates up to archive.MAX_ROWS subjects and stores their photos (each photo's
# enrollment is a job of its own), so it gets longer than one frame or one photo.
IMPORT_SOFT_TIME_LIMIT = 600
IMPORT_TIME_LIMIT = 900


@shared_task(
    name="enrollment.enroll_photo",
    acks_late=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def enroll_photo_task(photo_id: int) -> str:
    """Quality gate and template for one reference photo; returns the photo's status."""
    return actions.enroll_photo(photo_id).status


@shared_task(name="enrollment.expire_subjects")
def expire_subjects_task() -> int:
    """Mark subjects past their expiry date as expired (search ignores them already)."""
    return actions.expire_due_subjects()


@shared_task(name="enrollment.import_subjects", soft_time_limit=IMPORT_SOFT_TIME_LIMIT, time_limit=IMPORT_TIME_LIMIT)
def import_subjects_task(job_id: int) -> int:
    """Create the subjects of a bulk import and queue their photos' enrollment."""
    return importer.run(job_id).subjects_created
