"""Thumbnails only from accepted photos: a rejected photo keeps no face crop, shows no thumbnail,
and is deleted BANKWATCH_RETENTION_REJECTED_PHOTO_DAYS after its verdict (real photos, the real engine)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from enrollment import actions
from enrollment.models import ReferencePhoto, Subject
from retention.jobs import run_all
from tests.conftest import photo


@pytest.fixture
def subject(db) -> Subject:
    return actions.create_subject(actions.create_watchlist("Cướp ngân hàng"), "Tran Van A")


def _enroll(subject: Subject, name: str) -> ReferencePhoto:
    return actions.enroll_photo(actions.add_photo(subject, photo(name), name).pk)


def test_a_rejected_photo_keeps_no_face_crop_and_gives_the_subject_no_thumbnail(client, cast, dataset, subject):
    rejected = _enroll(subject, "couple.jpg")  # two faces: someone else may be the larger one
    assert rejected.status == ReferencePhoto.Status.REJECTED and not rejected.face_crop
    client.force_login(cast["carol"])
    listing = client.get(reverse("admin:enrollment_subject_changelist")).content.decode()
    assert reverse("admin:enrollment_referencephoto_file", args=[rejected.pk, "crop"]) not in listing
    accepted = _enroll(subject, "img1.jpg")
    assert accepted.status == ReferencePhoto.Status.ACCEPTED and accepted.face_crop
    listing = client.get(reverse("admin:enrollment_subject_changelist")).content.decode()
    assert reverse("admin:enrollment_referencephoto_file", args=[accepted.pk, "crop"]) in listing


def test_rejected_photos_are_deleted_after_their_retention_and_accepted_ones_stay(dataset, subject, settings):
    settings.RETENTION_REJECTED_PHOTO_DAYS = 7
    rejected = _enroll(subject, "couple.jpg")
    accepted = _enroll(subject, "img1.jpg")
    stored = rejected.image.path
    assert run_all()["rejected_photos_purged"] == 0  # judged just now
    assert run_all(timezone.now() + timedelta(days=8))["rejected_photos_purged"] == 1
    assert list(subject.photos.values_list("pk", flat=True)) == [accepted.pk]
    assert not __import__("os").path.exists(stored)
    assert AuditEntry.objects.filter(action="photo.deleted", object_id=str(rejected.pk)).exists()
