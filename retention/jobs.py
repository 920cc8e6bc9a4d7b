"""Retention: what BankWatch must forget, and when. `run_all` is the one periodic job (Celery beat
in production, the embedded scheduler otherwise, `manage.py run_retention` by hand).

Each purge deletes the bytes from storage first and then the references to them, so a crash
in between leaves rows pointing at nothing (the next run finishes the job: deleting a missing
file is a no-op) rather than bytes nothing points at any more.

1. Dismissed alerts: after RETENTION_DISMISSED_ALERT_DAYS their crops, frames and probe
   embedding go; the row (who decided what, when) stays for the audit trail.
2. Covered-face events (nobody identified): RETENTION_COVERED_HOURS after one was last seen, its
   crops, frames and probe embedding go, whatever its state, unless it was escalated to the police
   (their case needs the evidence; it then follows the alert's own retention). The row, with its
   labels and the reviewer's decision, stays for the audit trail and the false-alarm counts.
3. Frames: a frame is recognised and deleted at once (alerts.pipeline); this is the safety
   net. Images of finished frames and frames still unprocessed after RETENTION_FRAME_MAX_HOURS
   are deleted.
4. Subjects past expires_at, expired or removed: after RETENTION_EXPIRED_SUBJECT_DAYS their
   reference photos, crops, templates and counter-examples go; the row stays, because alerts
   refer to it.
5. Bulk imports: one queued or running for an hour lost its worker and is failed
   (enrollment.actions.fail_stalled_imports); the CSV and zip of photos of a finished or failed
   import go RETENTION_IMPORT_DAYS after it.
5b. Rejected reference photos (file, row) go BANKWATCH_RETENTION_REJECTED_PHOTO_DAYS after their
   verdict (enrollment.actions.purge_rejected_photos); they never had a crop or a template.
5c. Counter-examples ("not this person") go with the dismissed alert's retention
   (enrollment.actions.expire_counter_examples): their embedding is that alert's face.
6. Open alerts: a match alert still new or in review RETENTION_OPEN_ALERT_DAYS after it was last
   seen is dismissed as unreviewed (alerts.actions.close_unreviewed) and its images go at once.
7. Feed events (the replay log of the live feed) older than RETENTION_FEED_EVENT_DAYS go.
8. Legal holds (cases.models.LegalHold): an alert an unreleased hold keeps is skipped by every
   purge above, with its sightings and their images; each run lists the holds it honoured.
9. Orphans: files in a biometric folder (frames, alert crops and frames, reference photos)
   that no row points at, older than RETENTION_ORPHAN_GRACE_SECONDS: a process died between
   saving the file and committing its row.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from alerts.actions import close_unreviewed
from alerts.models import Alert, AlertEvent, Frame, Sighting
from audit.log import record
from cases.models import LegalHold, held_alert_ids
from enrollment.actions import expire_counter_examples, fail_stalled_imports, purge_rejected_photos
from enrollment.models import CounterExample, FaceTemplate, GalleryVersion, ImportJob, ReferencePhoto, Subject

logger = logging.getLogger(__name__)
ACTOR = "retention"
UNREVIEWED_STATUSES = (Alert.Status.NEW, Alert.Status.IN_REVIEW)


def _delete_files(*files: FieldFile) -> int:
    deleted = 0
    for file in files:
        if file and file.name:
            file.storage.delete(file.name)
            deleted += 1
    return deleted


def _has_biometrics() -> Q:
    return ~Q(probe_crop="") | ~Q(evidence_frame="") | Q(probe_embedding__isnull=False) | Q(sightings__face_crop__gt="")


def purge_alert_images(
    alerts: QuerySet[Alert], *, action: str = "retention.alert_images_purged", actor: Any = None, **detail: Any
) -> int:
    """Delete the crops, frames and probe embedding of `alerts` (not their rows), skipping held ones;
    one audit entry `action` per alert. Retention and deletion requests (privacy.actions) call it."""
    purged = 0
    for alert in alerts.filter(_has_biometrics()).exclude(pk__in=held_alert_ids()).distinct().iterator():
        sightings = list(alert.sightings.all())
        files = _delete_files(
            alert.probe_crop, alert.evidence_frame, *(f for s in sightings for f in (s.face_crop, s.frame_image))
        )
        with transaction.atomic():
            # update(), not save(): updated_at must keep the decision's time and version must not move.
            Alert.objects.filter(pk=alert.pk).update(probe_crop="", evidence_frame="", probe_embedding=None)
            Sighting.objects.filter(alert=alert).update(face_crop="", frame_image="")
            record(
                action, alert, actor=actor, actor_label="" if actor else ACTOR, files=files, kind=alert.kind, **detail
            )
        purged += 1
    return purged


def purge_dismissed_alerts(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_DISMISSED_ALERT_DAYS)
    return purge_alert_images(Alert.objects.filter(status=Alert.Status.DISMISSED, updated_at__lt=cutoff))


def purge_covered_events(now: datetime) -> int:
    cutoff = now - timedelta(hours=settings.RETENTION_COVERED_HOURS)
    events = Alert.objects.filter(kind=Alert.Kind.COVERED, last_seen_at__lt=cutoff).exclude(
        status__in=Alert.POLICE_STATUSES
    )
    return purge_alert_images(events)


def purge_frames(now: datetime) -> dict[str, int]:
    finished = Frame.objects.filter(status__in=[Frame.Status.DONE, Frame.Status.FAILED]).exclude(image="")
    cleared = 0
    for frame in finished.iterator():
        _delete_files(frame.image)
        Frame.objects.filter(pk=frame.pk).update(image="")
        cleared += 1
    stale = Frame.objects.filter(
        status__in=[Frame.Status.PENDING, Frame.Status.PROCESSING],
        received_at__lt=now - timedelta(hours=settings.RETENTION_FRAME_MAX_HOURS),
    )
    dropped = 0
    for frame in stale.iterator():
        _delete_files(frame.image)
        Frame.objects.filter(pk=frame.pk).delete()
        dropped += 1
    if cleared or dropped:
        record("retention.frames_purged", actor_label=ACTOR, cleared=cleared, stale=dropped)
    return {"frame_images_cleared": cleared, "stale_frames_dropped": dropped}


# Every file field whose bytes are biometric: a file in one of their folders that no row points
# at was left by a process that died between saving it and committing its row.
BIOMETRIC_FILES = [
    (Frame, "image"),
    (Alert, "probe_crop"),
    (Alert, "evidence_frame"),
    (Sighting, "face_crop"),
    (Sighting, "frame_image"),
    (ReferencePhoto, "image"),
    (ReferencePhoto, "face_crop"),
    (ImportJob, "zip_file"),
    (ImportJob, "csv_file"),
]


def _purge_orphan_files(now: datetime) -> int:
    folders: dict[str, list[tuple[type[Model], str]]] = {}
    for model, field in BIOMETRIC_FILES:
        folder = str(model._meta.get_field(field).upload_to).rstrip("/")  # type: ignore[union-attr]
        folders.setdefault(folder, []).append((model, field))
    # A file this young may belong to a row being written right now.
    young = now - timedelta(seconds=settings.RETENTION_ORPHAN_GRACE_SECONDS)
    deleted = 0
    for folder, fields in folders.items():
        try:
            _, names = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        paths = {f"{folder}/{name}" for name in names}
        known: set[str] = set()
        for model, field in fields:
            known |= set(model._default_manager.filter(**{f"{field}__in": paths}).values_list(field, flat=True))
        for path in sorted(paths - known):
            if default_storage.get_modified_time(path) < young:
                default_storage.delete(path)
                deleted += 1
    return deleted


def delete_subject_biometrics(
    subject: Subject,
    now: datetime,
    *,
    action: str = "retention.subject_biometrics_purged",
    actor: Any = None,
    status: str = Subject.Status.EXPIRED,
    **detail: Any,
) -> dict[str, int]:
    """Delete a subject's reference photos (bytes first), crops, templates and counter-examples; an
    active subject becomes `status`; the gallery forgets it at once. The row stays: alerts refer to it."""
    photos = list(ReferencePhoto.objects.filter(subject=subject))
    files = _delete_files(*(f for p in photos for f in (p.image, p.face_crop)))
    with transaction.atomic():
        templates, _ = FaceTemplate.objects.filter(subject=subject).delete()
        ReferencePhoto.objects.filter(subject=subject).delete()
        examples, _ = CounterExample.objects.filter(subject=subject).delete()
        if subject.status == Subject.Status.ACTIVE:
            Subject.objects.filter(pk=subject.pk).update(status=status, status_changed_at=now)
        GalleryVersion.bump()
        counts = {"photos": len(photos), "files": files, "templates": templates, "counter_examples": examples}
        label = "" if actor else ACTOR
        record(action, subject, actor=actor, actor_label=label, **{**counts, **detail})
    return counts


def purge_expired_subjects(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_EXPIRED_SUBJECT_DAYS)
    gone = Q(status__in=[Subject.Status.EXPIRED, Subject.Status.REMOVED], status_changed_at__lt=cutoff) | Q(
        expires_at__lt=cutoff
    )
    holds_biometrics = Q(photos__isnull=False) | Q(templates__isnull=False) | Q(counter_examples__isnull=False)
    purged = 0
    for subject in Subject.objects.filter(gone).filter(holds_biometrics).distinct().iterator():
        delete_subject_biometrics(subject, now)
        purged += 1
    return purged


def purge_finished_imports(now: datetime) -> int:
    """A bulk import's zip holds every photo it enrolled: it must not outlive the subjects' expiry."""
    cutoff = now - timedelta(days=settings.RETENTION_IMPORT_DAYS)
    jobs = ImportJob.objects.filter(status__in=[ImportJob.Status.DONE, ImportJob.Status.FAILED], finished_at__lt=cutoff)
    purged = 0
    for job in jobs.exclude(zip_file="", csv_file="").iterator():
        files = _delete_files(job.zip_file, job.csv_file)
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(zip_file="", csv_file="")
            record("retention.import_files_purged", job, actor_label=ACTOR, files=files)
        purged += 1
    return purged


def close_stale_open_alerts(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_OPEN_ALERT_DAYS)
    stale = Alert.objects.filter(kind=Alert.Kind.MATCH, status__in=UNREVIEWED_STATUSES, last_seen_at__lt=cutoff)
    closed = [alert.pk for alert in stale.iterator() if close_unreviewed(alert)]
    purge_alert_images(Alert.objects.filter(pk__in=closed))
    return len(closed)


def purge_feed_events(now: datetime) -> int:
    """Delete the feed log past its retention in batches of BANKWATCH_PURGE_BATCH_ROWS, oldest first:
    a year's backlog is many short statements, never one that locks the log for seconds."""
    cutoff = now - timedelta(days=settings.RETENTION_FEED_EVENT_DAYS)
    deleted = 0
    while True:
        batch = list(
            AlertEvent.objects.filter(created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[: settings.PURGE_BATCH_ROWS]
        )
        if not batch:
            break
        deleted += AlertEvent.objects.filter(pk__in=batch).delete()[0]
    if deleted:
        record("retention.feed_events_purged", actor_label=ACTOR, events=deleted)
    return deleted


def holds_in_force() -> list[dict[str, object]]:
    """The holds retention honours now: which alert, for which case, since when."""
    holds = LegalHold.objects.filter(released_at__isnull=True).select_related("case").order_by("placed_at")
    return [
        {
            "hold_id": hold.pk,
            "alert_id": hold.alert_id,
            "case": hold.case.reference if hold.case else None,
            "placed_at": hold.placed_at.isoformat(),
        }
        for hold in holds
    ]


def run_all(now: datetime | None = None) -> dict[str, object]:
    now = now or timezone.now()
    result: dict[str, object] = {
        "open_alerts_closed": close_stale_open_alerts(now),
        "dismissed_alerts_purged": purge_dismissed_alerts(now),
        "covered_events_purged": purge_covered_events(now),
        **purge_frames(now),
        "expired_subjects_purged": purge_expired_subjects(now),
        "counter_examples_expired": expire_counter_examples(now),
        "rejected_photos_purged": purge_rejected_photos(now),
        "stalled_imports_failed": fail_stalled_imports(now),
        "imports_purged": purge_finished_imports(now),
        "feed_events_purged": purge_feed_events(now),
    }
    result["orphan_files"] = orphans = _purge_orphan_files(now)
    if orphans:
        record("retention.orphan_files_purged", actor_label=ACTOR, files=orphans)
    result["held"] = holds_in_force()
    logger.info("retention: %s", result)
    return result
