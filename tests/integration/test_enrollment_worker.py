"""Enrollment through the real stack: PostgreSQL, Redis and a Celery worker process.

The photo is uploaded here, checked and turned into a template by the worker, and the
template is found by this (other) process's gallery on its very next search.
"""

import pytest

from benchmarks.harness import wait_for
from enrollment import actions, gallery
from enrollment.models import ReferencePhoto
from organizations.actions import get_or_create_branch
from recognition.engine import get_engine
from recognition.images import PHOTO_FORMATS, decode_image
from tests.conftest import photo

pytestmark = pytest.mark.integration


def test_a_worker_enrolls_uploaded_photos_and_every_process_sees_the_result(celery_worker, dataset):
    branch = get_or_create_branch("Saigon Bank", "District 1")
    subject = actions.create_subject(actions.create_watchlist("Robbers"), "Person One")
    probe = get_engine().analyze(decode_image(photo("img2.jpg"), max_side=1280, formats=PHOTO_FORMATS))[0].embedding
    assert gallery.search(probe[None, :], branch_id=branch.pk) == [[]]

    good = actions.add_photo(subject, photo("img1.jpg"), "img1.jpg")  # outside a transaction: queued at once
    group = actions.add_photo(subject, photo("couple.jpg"), "couple.jpg")

    def decided() -> bool:
        return not ReferencePhoto.objects.filter(pk__in=[good.pk, group.pk], status="pending").exists()

    assert wait_for(decided, timeout=90), celery_worker.output()[-3000:]
    good.refresh_from_db()
    group.refresh_from_db()
    assert good.status == "accepted" and good.face_crop
    assert group.status == "rejected" and group.rejection_reason.startswith("Several faces")
    assert [m.subject_id for m in gallery.search(probe[None, :], branch_id=branch.pk)[0]] == [subject.pk]

    actions.remove_subject(subject)
    assert gallery.search(probe[None, :], branch_id=branch.pk) == [[]]
