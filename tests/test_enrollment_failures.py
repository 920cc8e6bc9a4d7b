"""A failed enrollment job says so at once: the photo is failed with its reason, and the CLI and
the admin show that reason (not "still pending" five minutes later)."""

import json
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEntry
from enrollment import actions
from enrollment.models import ReferencePhoto
from tests.conftest import photo

REASON = "model weights missing: face_recognition_sface_2021dec.onnx"


@pytest.fixture
def engine_without_weights(monkeypatch):
    """The engine fails to load, as it does on a fresh data folder without provisioned weights."""
    import recognition.engine

    def broken() -> None:
        raise FileNotFoundError(REASON)

    monkeypatch.setattr(recognition.engine, "get_engine", broken)


def test_a_failed_enrollment_job_leaves_the_photo_failed_with_its_reason(dataset, db, engine_without_weights):
    subject = actions.create_subject(actions.create_watchlist("Robbers"), "Person One")
    stored = actions.add_photo(subject, photo("img1.jpg"), "img1.jpg")
    result = actions.enroll_photo(stored.pk)
    stored.refresh_from_db()
    assert result.status == stored.status == ReferencePhoto.Status.FAILED
    assert REASON in stored.rejection_reason and stored.processed_at is not None
    assert AuditEntry.objects.filter(action="photo.failed", object_id=str(stored.pk)).exists()
    assert not stored.templates.exists()


@pytest.mark.django_db(transaction=True)
def test_enroll_returns_at_once_with_the_reason_when_the_job_fails(dataset, tmp_path, engine_without_weights):
    image = tmp_path / "a.jpg"
    image.write_bytes(photo("img1.jpg"))
    out = StringIO()
    started = time.monotonic()
    with pytest.raises(CommandError) as caught:
        call_command("enroll", str(image), watchlist="Robbers", name="Person One", timeout=60, stdout=out)
    assert time.monotonic() - started < 30
    assert REASON in str(caught.value)
    printed = json.loads(out.getvalue().strip().splitlines()[-1])
    assert printed["failed"] == [{"photo": str(Path(image)), "reason": printed["failed"][0]["reason"]}]
    assert REASON in printed["failed"][0]["reason"] and "pending" not in printed


def test_the_admin_shows_a_failed_photos_reason(dataset, cast, client, engine_without_weights):
    subject = actions.create_subject(actions.create_watchlist("Robbers"), "Person One")
    stored = actions.enroll_photo(actions.add_photo(subject, photo("img1.jpg"), "img1.jpg").pk)
    client.force_login(cast["carol"])
    page = client.get(reverse("admin:enrollment_referencephoto_change", args=[stored.pk])).content.decode()
    assert "Failed" in page and REASON in page
    listing = client.get(reverse("admin:enrollment_referencephoto_changelist")).content.decode()
    assert REASON in listing
