from celery import shared_task

from enrollment import services


@shared_task(name="enrollment.enroll_photo", acks_late=True)
def enroll_photo_task(photo_id: int) -> str:
    """Quality gate and template for one reference photo; returns the photo's status."""
    return services.enroll_photo(photo_id).status


@shared_task(name="enrollment.expire_subjects")
def expire_subjects_task() -> int:
    """Mark subjects past their expiry date as expired (search ignores them already)."""
    return services.expire_due_subjects()


@shared_task(name="enrollment.import_subjects")
def import_subjects_task(job_id: int) -> int:
    """Create the subjects of a bulk import and queue their photos' enrollment."""
    from enrollment import importer

    return importer.run(job_id).subjects_created
