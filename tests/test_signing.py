"""Signed camera requests: a correct one is accepted once; replayed, altered, stale or unsigned (when required) ones are refused."""

import io
import time
from typing import Any

import numpy as np
from django.core.cache import cache
from django.test import Client
from django.test.client import encode_multipart

from cameras import signing
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
    _, token = camera_with_token
    body = _body()
    headers = signing.sign_headers(token, "POST", URL, body)
    assert _send(token, body, headers).status_code == 202
    replay = _send(token, body, headers)
    assert replay.status_code == 403 and "replayed" in replay.json()["error"]
    assert frames_queued() == 1


def test_an_altered_stale_or_foreign_signature_is_refused(camera_with_token):
    cache.clear()
    _, token = camera_with_token
    body = _body()
    altered = body.replace(
        b"CameraBoundary7MA4YWxk\r\nContent-Disposition", b"CameraBoundary7MA4YWxk\r\nContent-disposition"
    )
    assert _send(token, altered, signing.sign_headers(token, "POST", URL, body)).status_code == 403
    stale = signing.sign_headers(token, "POST", URL, body, now=time.time() - 3600)
    assert _send(token, body, stale).status_code == 403
    other_key = signing.sign_headers("bw_someone-elses-token", "POST", URL, body)
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
    assert _send(token, body, signing.sign_headers(token, "POST", URL, body)).status_code == 202
    stripped = _send(token, body, {})
    assert stripped.status_code == 403 and "signs its requests" in stripped.json()["error"]
    camera.refresh_from_db()
    assert camera.signs_requests
    assert frames_queued() == 2


def test_a_replay_is_refused_even_after_hundreds_of_other_requests(camera_with_token, monkeypatch):
    """Nonces are kept until they expire; the embedded cache used to evict them after 300 entries."""
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)
    _, token = camera_with_token
    body = _body()
    first = signing.sign_headers(token, "POST", URL, body)
    assert _send(token, body, first).status_code == 202
    from django.core.cache import cache as shared

    for n in range(400):  # what else fills the cache meanwhile: other cameras' nonces, back-off counters…
        shared.set(f"filler:{n}", n)
    replay = _send(token, body, first)
    assert replay.status_code == 403 and "replayed" in replay.json()["error"]


def test_captured_at_far_from_receipt_is_refused(camera_with_token, monkeypatch, settings):
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)
    _, token = camera_with_token
    image = io.BytesIO(encode_jpeg(np.full((90, 160, 3), 80, dtype=np.uint8)))
    image.name = "f.jpg"
    body = encode_multipart(BOUNDARY, {"image": image, "captured_at": "2020-01-01T00:00:00Z"})
    response = _send(token, body, {})
    assert response.status_code == 400 and "captured_at" in response.json()["fields"]
    assert not frames_queued()
