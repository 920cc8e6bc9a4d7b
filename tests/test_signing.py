"""Signed camera requests: keyed with a signing secret that is not the token, stored encrypted and shown
once; a correct one is accepted once; replayed, altered, stale or unsigned (when required or once the
camera has signed) ones are refused."""

import importlib
import io
import json
import logging
import time
from datetime import timedelta
from typing import Any

import numpy as np
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.client import encode_multipart
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEntry
from cameras import signing
from cameras.models import Camera, CameraNonce, hash_token
from recognition.images import encode_jpeg
from tests.factories import frames_queued

URL = "/api/v1/frames"
BOUNDARY = "CameraBoundary7MA4YWxk"


def _body() -> bytes:
    image = io.BytesIO(encode_jpeg(np.full((90, 160, 3), 80, dtype=np.uint8)))
    image.name = "f.jpg"
    return encode_multipart(BOUNDARY, {"image": image})


def _send(token: str, body: bytes, headers: dict[str, str]):
    meta: dict[str, Any] = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    return Client().post(
        URL,
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        HTTP_AUTHORIZATION=f"Camera {token}",
        **meta,
    )


def test_a_signed_frame_is_accepted_and_its_replay_refused(camera_with_token, monkeypatch):
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)
    cache.clear()
    camera, token = camera_with_token
    body = _body()
    headers = signing.sign_headers(signing.secret_of(camera), "POST", URL, body)
    assert _send(token, body, headers).status_code == 202
    replay = _send(token, body, headers)
    assert replay.status_code == 403 and "replayed" in replay.json()["error"]
    assert frames_queued() == 1


def test_an_altered_stale_or_foreign_signature_is_refused(camera_with_token):
    cache.clear()
    camera, token = camera_with_token
    secret = signing.secret_of(camera)
    body = _body()
    altered = body.replace(
        b"CameraBoundary7MA4YWxk\r\nContent-Disposition", b"CameraBoundary7MA4YWxk\r\nContent-disposition"
    )
    assert _send(token, altered, signing.sign_headers(secret, "POST", URL, body)).status_code == 403
    stale = signing.sign_headers(secret, "POST", URL, body, now=time.time() - 3600)
    assert _send(token, body, stale).status_code == 403
    other_key = signing.sign_headers("bws_someone-elses-secret", "POST", URL, body)
    assert _send(token, body, other_key).status_code == 403
    half = {signing.TIMESTAMP_HEADER: str(int(time.time()))}
    assert _send(token, body, half).status_code == 403
    assert not frames_queued()


def test_unsigned_frames_are_refused_when_signing_is_required(camera_with_token, settings):
    settings.REQUIRE_SIGNED_FRAMES = True
    _, token = camera_with_token
    response = _send(token, _body(), {})
    assert response.status_code == 403
    assert not frames_queued()


def test_once_a_camera_has_signed_its_unsigned_requests_are_refused(camera_with_token, monkeypatch):
    """Stripping the three headers off a captured signed request no longer gets it in."""
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)
    camera, token = camera_with_token
    body = _body()
    assert _send(token, body, {}).status_code == 202  # a camera that never signed may stay unsigned
    assert _send(token, body, signing.sign_headers(signing.secret_of(camera), "POST", URL, body)).status_code == 202
    stripped = _send(token, body, {})
    assert stripped.status_code == 403 and "signs its requests" in stripped.json()["error"]
    camera.refresh_from_db()
    assert camera.signs_requests
    assert frames_queued() == 2


def test_a_replay_is_refused_even_after_hundreds_of_other_requests(camera_with_token, monkeypatch):
    """Nonces are kept until they expire; the embedded cache used to evict them after 300 entries."""
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)
    camera, token = camera_with_token
    body = _body()
    first = signing.sign_headers(signing.secret_of(camera), "POST", URL, body)
    assert _send(token, body, first).status_code == 202
    assert CameraNonce.objects.filter(camera=camera, nonce=first[signing.NONCE_HEADER]).exists()
    from django.core.cache import cache as shared

    for n in range(400):  # what else fills the cache meanwhile: other cameras' nonces, back-off counters…
        shared.set(f"filler:{n}", n)
    replay = _send(token, body, first)
    assert replay.status_code == 403 and "replayed" in replay.json()["error"]


def test_captured_at_far_from_receipt_is_refused(camera_with_token, monkeypatch, settings):
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)
    camera, token = camera_with_token
    image = io.BytesIO(encode_jpeg(np.full((90, 160, 3), 80, dtype=np.uint8)))
    image.name = "f.jpg"
    body = encode_multipart(BOUNDARY, {"image": image, "captured_at": "2020-01-01T00:00:00Z"})
    response = _send(token, body, {})
    assert response.status_code == 400 and "captured_at" in response.json()["fields"]
    signed = _send(token, body, signing.sign_headers(signing.secret_of(camera), "POST", URL, body))
    assert signed.status_code == 400 and "captured_at" in signed.json()["fields"]  # a signature does not vouch for it
    assert not frames_queued()


def test_a_captured_request_gives_no_key_to_sign_new_frames_with(camera_with_token, monkeypatch):
    """The token travels in every request and the server stores its SHA-256: neither signs."""
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)
    camera, token = camera_with_token
    body = _body()
    for key in (token, hash_token(token)):
        forged = _send(token, body, signing.sign_headers(key, "POST", URL, body))
        assert forged.status_code == 403 and "does not match" in forged.json()["error"]
    secret = signing.secret_of(camera)
    assert secret.startswith("bws_") and secret not in (token, hash_token(token))
    assert _send(token, body, signing.sign_headers(secret, "POST", URL, body)).status_code == 202
    assert frames_queued() == 1


def test_the_signing_secret_is_stored_only_encrypted(camera_with_token):
    camera, token = camera_with_token
    secret = signing.secret_of(camera)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cameras_camera WHERE id = %s", [camera.pk])
        row = repr(cursor.fetchone())
    assert secret not in row and secret.removeprefix("bws_") not in row
    assert camera.signing_secret and camera.signing_secret not in (secret, token)


def _command(capsys, *args: str) -> dict:
    call_command(*args)
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_the_secret_is_shown_at_creation_and_rotation_and_then_nowhere(capsys, caplog, monkeypatch, cast):
    """create_camera and rotate_camera_token print it once; the old one verifies during the grace
    only; the audit entry, the camera API, camera_status and the log never hold it."""
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)
    caplog.set_level(logging.DEBUG)
    created = _command(capsys, "create_camera", "--bank", "Saigon Bank", "--branch", "District 1", "--name", "Door")
    token, first = created["token"], created["signing_secret"]
    body = _body()
    assert _send(token, body, signing.sign_headers(first, "POST", URL, body)).status_code == 202
    rotated = _command(capsys, "rotate_camera_token", str(created["camera_id"]), "--grace", "600")
    second = rotated["signing_secret"]
    assert second not in (first, rotated["token"])
    assert _send(rotated["token"], body, signing.sign_headers(second, "POST", URL, body)).status_code == 202
    assert _send(token, body, signing.sign_headers(first, "POST", URL, body)).status_code == 202  # in the grace
    Camera.objects.filter(pk=created["camera_id"]).update(
        previous_token_valid_until=timezone.now() - timedelta(seconds=1)
    )
    late = _send(rotated["token"], body, signing.sign_headers(first, "POST", URL, body))
    assert late.status_code == 403  # the old secret, even with the new token
    entry = AuditEntry.objects.get(action="camera.token_rotated", object_id=str(created["camera_id"]))
    creation = AuditEntry.objects.get(action="camera.created", object_id=str(created["camera_id"]))
    client = Client()
    client.force_login(cast["alice"])
    listing = client.get("/api/v1/cameras/")
    assert listing.status_code == 200
    call_command("camera_status")
    status_lines = capsys.readouterr().out
    for secret in (first, second):
        assert secret not in json.dumps([entry.detail, creation.detail]) and secret not in listing.content.decode()
        assert secret not in status_lines and secret not in caplog.text


def test_the_admin_shows_a_new_cameras_secret_once_and_rotates_it_audited(db, monkeypatch):
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)
    root = User.objects.create_superuser("root", password="x")
    client = Client()
    client.force_login(root)
    from organizations.actions import get_or_create_branch

    branch = get_or_create_branch("Saigon Bank", "District 1")
    form = {"branch": branch.pk, "name": "Door", "role": "entrance", "is_active": "on", "source": "push",
            "stream_url": "", "stream_auth": "digest", "fps": "5"}  # fmt: skip
    added = client.post("/admin/cameras/camera/add/", form)
    assert added.status_code == 200 and "no-store" in added["Cache-Control"]
    camera = Camera.objects.get(name="Door")
    secret = signing.secret_of(camera)
    page = added.content.decode()
    assert secret in page and "bw_" in page
    assert secret not in client.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()
    rotated = client.post(
        "/admin/cameras/camera/", {"action": "rotate_camera_credentials", "_selected_action": [camera.pk]}
    )
    camera.refresh_from_db()
    new_secret = signing.secret_of(camera)
    assert rotated.status_code == 200 and new_secret != secret and new_secret in rotated.content.decode()
    entry = AuditEntry.objects.get(action="camera.token_rotated", object_id=str(camera.pk))
    assert entry.actor == root and new_secret not in json.dumps(entry.detail)
    token = rotated.content.decode().split('class="camera-token">')[1].split("<")[0]
    body = _body()
    assert _send(token, body, signing.sign_headers(new_secret, "POST", URL, body)).status_code == 202


def test_the_migration_gives_existing_cameras_a_secret_they_get_by_rotation(camera_with_token, capsys):
    """A camera from before the signing secret: it gets one nobody has seen; its old-style signature
    (keyed with the token's hash) is refused; a rotation shows it the secret it then signs with."""
    camera, token = camera_with_token
    Camera.objects.filter(pk=camera.pk).update(signing_secret="", signs_requests=True)
    from django.apps import apps

    importlib.import_module("cameras.migrations.0006_signing_secret").give_every_camera_a_signing_secret(apps, None)
    camera.refresh_from_db()
    assert signing.secret_of(camera).startswith("bws_")
    body = _body()
    assert _send(token, body, signing.sign_headers(hash_token(token), "POST", URL, body)).status_code == 403
    assert _send(token, body, {}).status_code == 403  # it signed before: it stays a signing camera
    rotated = _command(capsys, "rotate_camera_token", str(camera.pk))
    sign = signing.sign_headers(rotated["signing_secret"], "POST", URL, body)
    assert _send(rotated["token"], body, sign).status_code == 202
