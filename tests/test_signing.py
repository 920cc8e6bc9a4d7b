"""Signed camera requests: a correct one is accepted once; replayed, altered, stale or unsigned (when required) ones are refused."""

import io
import time
from typing import Any

import numpy as np
from django.core.cache import cache
from django.test import Client
from django.test.client import encode_multipart

from alerts.models import Frame
from cameras import signing
from recognition.images import encode_jpeg

URL = "/api/v1/frames"
BOUNDARY = "CameraBoundary7MA4YWxk"


def _body() -> bytes:
    image = io.BytesIO(encode_jpeg(np.full((90, 160, 3), 80, dtype=np.uint8)))
    image.name = "f.jpg"
    return encode_multipart(BOUNDARY, {"image": image})


def _send(token: str, body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
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
    assert Frame.objects.count() == 1


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
    assert not Frame.objects.exists()


def test_unsigned_frames_are_refused_when_signing_is_required(camera_with_token, settings):
    settings.REQUIRE_SIGNED_FRAMES = True
    _, token = camera_with_token
    response = _send(token, _body(), {})
    assert response.status_code == 403
    assert not Frame.objects.exists()
