"""Retention: each purge is checked on the bytes in storage, not only on the rows."""

import json
import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from alerts.actions import review_alert
from alerts.models import Alert, Frame
from audit.models import AuditEntry
from enrollment.models import CounterExample, FaceTemplate, GalleryVersion, ImportJob, ReferencePhoto, Subject
from retention import scheduler
from retention.jobs import run_all
from tests.factories import make_alert, make_covered_event, make_sighting, make_subject, random_embedding

DAY = timedelta(days=1)


def on_disk(file: FieldFile) -> bool:
    return bool(file.name) and default_storage.exists(file.name)  # type: ignore[arg-type]


def stored_names(alert: Alert) -> list[str]:
    names = [alert.probe_crop.name, alert.evidence_frame.name]
    for sighting in alert.sightings.all():
        names += [sighting.face_crop.name, sighting.frame_image.name]
    return [name for name in names if name]


@pytest.fixture
def dismissed_alert(cast, camera_with_token) -> Alert:
    camera, _ = camera_with_token
    alert = make_alert(camera, make_subject())
    make_sighting(alert)
    return review_alert(alert, cast["alice"], "dismiss", reason="poor_image", version=alert.version)


def test_a_dismissed_alerts_images_are_purged_after_the_retention_period(dismissed_alert, settings):
    settings.RETENTION_DISMISSED_ALERT_DAYS = 30
    names = stored_names(dismissed_alert)
    assert len(names) >= 4 and all(default_storage.exists(name) for name in names)

    run_all(timezone.now() + 29 * DAY)
    assert all(default_storage.exists(name) for name in names)

    result = run_all(timezone.now() + 31 * DAY)
    assert result["dismissed_alerts_purged"] == 1
    assert not any(default_storage.exists(name) for name in names)
    alert = Alert.objects.get(pk=dismissed_alert.pk)
    assert alert.status == Alert.Status.DISMISSED and alert.version == dismissed_alert.version
    assert stored_names(alert) == [] and alert.probe_embedding is None
    entry = AuditEntry.objects.get(action="retention.alert_images_purged")
    assert entry.object_id == str(alert.pk) and entry.detail["files"] == len(names)
    assert run_all(timezone.now() + 32 * DAY)["dismissed_alerts_purged"] == 0  # nothing left to do


def test_images_of_alerts_still_open_or_confirmed_are_kept(cast, camera_with_token, settings):
    settings.RETENTION_DISMISSED_ALERT_DAYS = 0
    settings.RETENTION_OPEN_ALERT_DAYS = 1000  # closing stale open alerts is tested below
    camera, _ = camera_with_token
    open_alert = make_alert(camera, make_subject("A"))
    confirmed = make_alert(camera, make_subject("B"))
    review_alert(confirmed, cast["alice"], "confirm", version=confirmed.version)
    run_all(timezone.now() + 400 * DAY)
    for alert in (open_alert, confirmed):
        assert all(default_storage.exists(name) for name in stored_names(alert))


def _frame(camera, status: str, content: bytes = b"\xff\xd8frame") -> Frame:
    frame = Frame(camera=camera, captured_at=timezone.now(), status=status)
    frame.image.save(f"c{camera.pk}.jpg", ContentFile(content), save=False)
    frame.save()
    return frame


def _age_file(name: str, seconds: int) -> None:
    path = default_storage.path(name)
    past = timezone.now().timestamp() - seconds
    os.utime(path, (past, past))


def test_frames_are_not_kept_past_processing(camera_with_token, settings):
    settings.RETENTION_ORPHAN_GRACE_SECONDS = 600
    camera, _ = camera_with_token
    done = _frame(camera, Frame.Status.DONE)
    failed = _frame(camera, Frame.Status.FAILED)
    waiting = _frame(camera, Frame.Status.PENDING)
    stale = _frame(camera, Frame.Status.PENDING)
    Frame.objects.filter(pk=stale.pk).update(received_at=timezone.now() - timedelta(hours=25))
    orphan = default_storage.save("frames/c1.jpg", ContentFile(b"left by a crash"))
    _age_file(orphan, 3600)
    young_orphan = default_storage.save("frames/c1.jpg", ContentFile(b"row about to be written"))

    result = run_all()

    assert not on_disk(done.image) and not on_disk(failed.image)
    assert Frame.objects.get(pk=done.pk).image == "" and Frame.objects.get(pk=failed.pk).image == ""
    assert not on_disk(stale.image) and not Frame.objects.filter(pk=stale.pk).exists()
    assert not default_storage.exists(orphan)
    assert on_disk(waiting.image) and default_storage.exists(young_orphan)
    assert result | {"dismissed_alerts_purged": 0} == {
        "dismissed_alerts_purged": 0,
        "covered_events_purged": 0,
        "frame_images_cleared": 2,
        "stale_frames_dropped": 1,
        "orphan_files": 1,
        "expired_subjects_purged": 0,
        "counter_examples_expired": 0,
        "rejected_photos_purged": 0,
        "stalled_imports_failed": 0,
        "imports_purged": 0,
        "open_alerts_closed": 0,
        "feed_events_purged": 0,
        "held": [],
    }
    assert AuditEntry.objects.get(action="retention.frames_purged").detail == {"cleared": 2, "stale": 1}
    assert AuditEntry.objects.get(action="retention.orphan_files_purged").detail == {"files": 1}


def test_a_covered_events_images_go_after_its_own_short_retention_bytes_included(cast, camera_with_token, settings):
    settings.RETENTION_COVERED_HOURS = 24
    camera, _ = camera_with_token
    waiting = make_covered_event(camera, person=1)
    handled = make_covered_event(camera, person=2)
    handled = review_alert(handled, cast["alice"], "asked_to_uncover", version=handled.version)
    escalated = make_covered_event(camera, person=3)
    escalated = review_alert(escalated, cast["alice"], "security_called", version=escalated.version)
    escalated = review_alert(escalated, cast["alice"], "escalate", version=escalated.version)
    names = {e.pk: stored_names(e) for e in (waiting, handled, escalated)}
    assert all(len(n) >= 3 and all(default_storage.exists(x) for x in n) for n in names.values())

    assert run_all(timezone.now() + timedelta(hours=23))["covered_events_purged"] == 0
    assert all(default_storage.exists(x) for n in names.values() for x in n)

    result = run_all(timezone.now() + timedelta(hours=25))
    assert result["covered_events_purged"] == 2
    for event in (waiting, handled):
        assert not any(default_storage.exists(x) for x in names[event.pk])
        purged = Alert.objects.get(pk=event.pk)
        assert stored_names(purged) == [] and purged.probe_embedding is None
        assert purged.status == event.status and purged.covering_labels == ["mask"]  # the decision stays
    assert all(default_storage.exists(x) for x in names[escalated.pk])  # the police case needs them
    assert AuditEntry.objects.filter(action="retention.alert_images_purged", detail__kind="covered").count() == 2


def test_files_no_row_points_at_are_deleted_from_every_biometric_folder(camera_with_token, settings):
    settings.RETENTION_ORPHAN_GRACE_SECONDS = 600
    camera, _ = camera_with_token
    alert = make_alert(camera, make_subject())
    kept = stored_names(alert)
    folders = ["alerts/crops", "alerts/frames", "enrollment/photos", "enrollment/crops"]
    orphans = [default_storage.save(f"{folder}/left.jpg", ContentFile(b"a process died here")) for folder in folders]
    for name in kept + orphans:
        _age_file(name, 3600)

    assert run_all()["orphan_files"] == len(orphans)

    assert not any(default_storage.exists(name) for name in orphans)
    assert all(default_storage.exists(name) for name in kept)


def _enrolled(subject: Subject) -> ReferencePhoto:
    photo = ReferencePhoto(subject=subject, status=ReferencePhoto.Status.ACCEPTED)
    photo.image.save("face.jpg", ContentFile(b"\xff\xd8reference photo"), save=False)
    photo.face_crop.save("crop.jpg", ContentFile(b"\xff\xd8crop"), save=False)
    photo.save()
    FaceTemplate.objects.create(
        photo=photo, subject=subject, model_id="SFace+yunet", embedding=random_embedding(1).tobytes()
    )
    CounterExample.objects.create(subject=subject, model_id="SFace+yunet", embedding=random_embedding(2).tobytes())
    return photo


def test_an_expired_subjects_photos_and_templates_are_removed(db, settings):
    settings.RETENTION_EXPIRED_SUBJECT_DAYS = 0
    expired = make_subject("Expired")
    Subject.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    removed = make_subject("Removed")
    Subject.objects.filter(pk=removed.pk).update(status=Subject.Status.REMOVED)
    active = make_subject("Still wanted")
    photos = {subject.pk: _enrolled(subject) for subject in (expired, removed, active)}
    version = GalleryVersion.current()

    assert run_all()["expired_subjects_purged"] == 2

    for subject in (expired, removed):
        photo = photos[subject.pk]
        assert not on_disk(photo.image) and not on_disk(photo.face_crop)
        assert not ReferencePhoto.objects.filter(subject=subject).exists()
        assert not FaceTemplate.objects.filter(subject=subject).exists()
        assert not CounterExample.objects.filter(subject=subject).exists()
        assert AuditEntry.objects.filter(
            action="retention.subject_biometrics_purged", object_id=str(subject.pk)
        ).exists()
    assert Subject.objects.get(pk=expired.pk).status == Subject.Status.EXPIRED
    assert GalleryVersion.current() > version
    kept = photos[active.pk]
    assert on_disk(kept.image) and FaceTemplate.objects.filter(subject=active).count() == 1


def test_an_expired_subject_is_kept_for_the_configured_days(db, settings):
    settings.RETENTION_EXPIRED_SUBJECT_DAYS = 7
    subject = make_subject("Expired yesterday")
    Subject.objects.filter(pk=subject.pk).update(expires_at=timezone.now() - DAY)
    photo = _enrolled(subject)
    assert run_all()["expired_subjects_purged"] == 0 and on_disk(photo.image)
    assert run_all(timezone.now() + 7 * DAY)["expired_subjects_purged"] == 1
    assert not on_disk(photo.image)


def test_a_finished_imports_zip_of_photos_is_deleted_after_a_day(db, settings):
    settings.RETENTION_IMPORT_DAYS = 1
    listing = make_subject().watchlist
    jobs = []
    for status in (ImportJob.Status.DONE, ImportJob.Status.RUNNING):
        job = ImportJob(watchlist=listing, status=status, finished_at=timezone.now())
        job.csv_file.save("s.csv", ContentFile(b"full_name\nA"), save=False)
        job.zip_file.save("p.zip", ContentFile(b"PK\x03\x04photos"), save=False)
        job.save()
        jobs.append(job)
    done, running = jobs

    assert run_all()["imports_purged"] == 0 and on_disk(done.zip_file)
    assert run_all(timezone.now() + 2 * DAY)["imports_purged"] == 1

    assert not on_disk(done.zip_file) and not on_disk(done.csv_file)
    assert ImportJob.objects.get(pk=done.pk).zip_file == ""
    assert on_disk(running.zip_file) and on_disk(running.csv_file)
    assert AuditEntry.objects.filter(action="retention.import_files_purged", object_id=str(done.pk)).exists()


def test_the_command_runs_every_purge_and_prints_counts(db, capsys):
    call_command("run_retention")
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out) == {
        "dismissed_alerts_purged",
        "covered_events_purged",
        "frame_images_cleared",
        "stale_frames_dropped",
        "orphan_files",
        "expired_subjects_purged",
        "counter_examples_expired",
        "rejected_photos_purged",
        "stalled_imports_failed",
        "imports_purged",
        "open_alerts_closed",
        "feed_events_purged",
        "held",  # the legal holds honoured (tests/test_privacy.py)
    }


def test_retention_is_on_the_beat_schedule_and_the_embedded_scheduler_stays_off_in_tests():
    entry = settings.CELERY_BEAT_SCHEDULE["retention"]
    assert entry == {"task": "retention.run", "schedule": float(settings.RETENTION_INTERVAL_SECONDS)}
    from bankwatch.celery import app

    app.loader.import_default_modules()
    assert "retention.run" in app.tasks
    assert scheduler.start_embedded_beat() is False


def test_an_alert_left_open_is_closed_as_unreviewed_and_its_images_purged(cast, camera_with_token, settings):
    settings.RETENTION_OPEN_ALERT_DAYS = 30
    settings.RETENTION_FEED_EVENT_DAYS = 1000  # keep the event the move made, to look at it
    camera, _ = camera_with_token
    stale = make_alert(camera, make_subject("A"))
    make_sighting(stale)
    in_review = make_alert(camera, make_subject("B"))
    review_alert(in_review, cast["alice"], "start_review", version=in_review.version)
    confirmed = make_alert(camera, make_subject("C"))
    review_alert(confirmed, cast["alice"], "confirm", version=confirmed.version)
    names = stored_names(stale) + stored_names(in_review)
    assert len(names) >= 6
    assert run_all(timezone.now() + 29 * DAY)["open_alerts_closed"] == 0
    result = run_all(timezone.now() + 31 * DAY)
    assert result["open_alerts_closed"] == 2
    assert not any(default_storage.exists(name) for name in names)
    for alert in (stale, in_review):
        alert.refresh_from_db()
        assert alert.status == Alert.Status.DISMISSED and alert.dismiss_reason == Alert.DismissReason.UNREVIEWED
        assert AuditEntry.objects.filter(action="alert.closed_unreviewed", object_id=str(alert.pk)).exists()
        assert alert.events.filter(kind="alert.updated", payload__status="dismissed").exists()
    confirmed.refresh_from_db()
    assert confirmed.status == Alert.Status.CONFIRMED and all(
        default_storage.exists(n) for n in stored_names(confirmed)
    )


def test_feed_events_are_purged_after_their_retention_period(cast, camera_with_token, settings):
    from alerts.models import AlertEvent

    settings.RETENTION_FEED_EVENT_DAYS = 7
    settings.RETENTION_OPEN_ALERT_DAYS = 1000
    make_alert(camera_with_token[0], make_subject("A"))
    assert AlertEvent.objects.count() == 1
    assert run_all(timezone.now() + 6 * DAY)["feed_events_purged"] == 0
    assert run_all(timezone.now() + 8 * DAY)["feed_events_purged"] == 1
    assert not AlertEvent.objects.exists()


def test_a_long_feed_log_is_purged_in_short_batches_and_only_what_is_past_its_retention(
    cast, camera_with_token, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alerts.models import AlertEvent
    from retention.jobs import purge_feed_events

    settings.RETENTION_FEED_EVENT_DAYS, settings.PURGE_BATCH_ROWS = 7, 2
    for name in "ABCDE":
        make_alert(camera_with_token[0], make_subject(name))
    AlertEvent.objects.update(created_at=timezone.now() - 8 * DAY)
    make_alert(camera_with_token[0], make_subject("F"))  # recent: kept
    with CaptureQueriesContext(connection) as queries:
        assert purge_feed_events(timezone.now()) == 5
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 2 + 2 + 1 rows, one short statement each
    assert list(AlertEvent.objects.values_list("alert__subject__full_name", flat=True)) == ["F"]
