"""Camera credentials: stored only as hashes, rotated without downtime, signed requests not replayable."""

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts import frame_queue
from audit.models import AuditEntry
from cameras import signing
from cameras.models import Camera, hash_token
from tests.factories import frames_queued


def rotate(capsys, camera: Camera, *extra: str) -> dict:
    call_command("rotate_camera_token", str(camera.pk), *extra)
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_only_a_hash_of_the_token_is_stored(camera_with_token):
    camera, token = camera_with_token
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cameras_camera WHERE id = %s", [camera.pk])
        row = [str(value) for value in cursor.fetchone()]
    assert hash_token(token) in row
    assert not any(token in value for value in row)


def test_the_old_token_keeps_working_during_the_grace_period_and_not_after(camera_with_token, capsys):
    camera, old = camera_with_token
    out = rotate(capsys, camera, "--grace", "600")
    new = out["token"]
    assert new != old and Camera.authenticate(new) == camera
    assert Camera.authenticate(old) == camera  # still inside the grace period
    camera.refresh_from_db()
    assert camera.token_hash == hash_token(new) and camera.previous_token_hash == hash_token(old)
    assert out["old_token_valid_until"] == camera.previous_token_valid_until.isoformat()
    Camera.objects.filter(pk=camera.pk).update(previous_token_valid_until=timezone.now() - timedelta(seconds=1))
    assert Camera.authenticate(old) is None
    assert Camera.authenticate(new) == camera
    assert AuditEntry.objects.filter(action="camera.token_rotated", object_id=str(camera.pk)).count() == 1


def test_grace_zero_revokes_the_old_token_at_once(camera_with_token, capsys):
    camera, old = camera_with_token
    out = rotate(capsys, camera, "--grace", "0")
    assert Camera.authenticate(old) is None and Camera.authenticate(out["token"]) == camera
    assert out["old_token_valid_until"] is None


def test_a_second_rotation_ends_the_first_tokens_grace(camera_with_token, capsys):
    camera, first = camera_with_token
    second = rotate(capsys, camera)["token"]
    third = rotate(capsys, camera)["token"]
    assert Camera.authenticate(first) is None
    assert Camera.authenticate(second) == camera and Camera.authenticate(third) == camera


def test_a_disabled_camera_is_refused_with_either_token(camera_with_token, capsys):
    camera, old = camera_with_token
    new = rotate(capsys, camera)["token"]
    Camera.objects.filter(pk=camera.pk).update(is_active=False)
    assert Camera.authenticate(old) is None and Camera.authenticate(new) is None


def test_rotating_an_unknown_camera_or_a_negative_grace_is_an_error(camera_with_token):
    camera, _ = camera_with_token
    with pytest.raises(CommandError, match="no camera"):
        call_command("rotate_camera_token", "999999")
    with pytest.raises(CommandError, match="grace"):
        call_command("rotate_camera_token", str(camera.pk), "--grace", "-1")


# --- through the frame API ------------------------------------------------------

FRAMES = "/api/v1/frames"
BOUNDARY = "bankwatchboundary"


def _frame_body() -> bytes:
    import numpy as np
    from django.test.client import encode_multipart

    from recognition.images import encode_jpeg

    image = SimpleUploadedFile("f.jpg", encode_jpeg(np.full((48, 64, 3), 120, dtype=np.uint8)))
    return encode_multipart(BOUNDARY, {"image": image})


def _push(token: str, body: bytes, **headers: str):
    extra: dict[str, Any] = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    return Client().generic(
        "POST",
        FRAMES,
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        HTTP_AUTHORIZATION=f"Camera {token}",
        **extra,
    )


@pytest.fixture
def no_jobs(monkeypatch):
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)


def test_a_camera_keeps_pushing_through_a_rotation(camera_with_token, capsys, no_jobs):
    camera, old = camera_with_token
    body = _frame_body()
    assert _push(old, body).status_code == 202
    new = rotate(capsys, camera, "--grace", "60")["token"]
    assert _push(old, body).status_code == 202  # not yet reconfigured: still accepted
    assert _push(new, body).status_code == 202
    Camera.objects.filter(pk=camera.pk).update(previous_token_valid_until=timezone.now() - timedelta(seconds=1))
    assert _push(old, body).status_code == 401
    assert _push(new, body).status_code == 202
    assert frame_queue.backlog(camera.pk) == 4


def test_a_replayed_or_altered_signed_request_is_refused(camera_with_token, no_jobs):
    camera, token = camera_with_token
    secret = signing.secret_of(camera)
    body = _frame_body()
    headers = signing.sign_headers(secret, "POST", FRAMES, body)
    assert _push(token, body, **headers).status_code == 202
    replay = _push(token, body, **headers)
    assert replay.status_code == 403 and "replayed" in replay.json()["error"]
    fresh = signing.sign_headers(secret, "POST", FRAMES, body)
    altered = _push(token, body.replace(b"f.jpg", b"g.jpg"), **fresh)
    assert altered.status_code == 403
    stale = signing.sign_headers(secret, "POST", FRAMES, body, now=time.time() - 3600)
    assert _push(token, body, **stale).status_code == 403
    assert frame_queue.backlog(camera.pk) == 1


def test_a_signature_made_with_the_old_token_after_its_grace_is_refused(camera_with_token, capsys, no_jobs):
    camera, old = camera_with_token
    old_secret = signing.secret_of(camera)
    rotate(capsys, camera, "--grace", "0")
    body = _frame_body()
    assert _push(old, body, **signing.sign_headers(old_secret, "POST", FRAMES, body)).status_code == 401
    assert not frames_queued()


def test_an_accepted_token_is_remembered_for_a_few_seconds_and_an_unknown_one_never(camera_with_token, settings):
    from cameras.models import _accepted_tokens

    settings.CAMERA_AUTH_CACHE_SECONDS = 5
    _accepted_tokens.clear()
    camera, token = camera_with_token
    assert Camera.authenticate(token) == camera
    with CaptureQueriesContext(connection) as queries:
        assert Camera.authenticate(token) == camera  # from memory
        assert Camera.authenticate("bw_not-a-real-token") is None  # asks the database, every time
        assert Camera.authenticate("bw_not-a-real-token") is None
    assert len(queries) == 4  # two per unknown token (current and previous), none for the known one
    settings.CAMERA_AUTH_CACHE_SECONDS = 0
    Camera.objects.filter(pk=camera.pk).update(is_active=False)
    assert Camera.authenticate(token) is None
    _accepted_tokens.clear()
