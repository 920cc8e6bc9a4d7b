"""POST /api/v1/frames: a good frame is stored and queued; every bad upload gets its 4xx and changes nothing."""

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from PIL import Image

from alerts import frame_queue
from alerts.models import Frame
from recognition.images import encode_jpeg
from tests.factories import frames_queued

URL = "/api/v1/frames"


def _jpeg(width: int = 320, height: int = 180) -> bytes:
    return encode_jpeg(np.full((height, width, 3), 120, dtype=np.uint8), quality=80)


def _post(token: str | None, data: dict, **headers: Any):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Camera {token}"
    return Client().post(URL, data, **headers)


def _upload(content: bytes, name: str = "f.jpg") -> io.BytesIO:
    buffer = io.BytesIO(content)
    buffer.name = name
    return buffer


def _stored_files() -> list[str]:
    try:
        return default_storage.listdir("frames")[1]
    except FileNotFoundError:
        return []


def test_a_frame_is_queued_with_its_bytes_and_nothing_is_stored(camera_with_token, monkeypatch):
    camera, token = camera_with_token
    queued: list[tuple] = []
    monkeypatch.setattr("alerts.ingest.enqueue", lambda task, *args: queued.append((task, *args)))
    captured = (timezone.now() - timedelta(seconds=30)).replace(microsecond=0)  # within the allowed skew
    local = captured.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).isoformat()
    jpeg = _jpeg()
    response = _post(token, {"image": _upload(jpeg), "captured_at": local})
    assert response.status_code == 202, response.content
    assert queued == [("alerts.process_frame",)]  # a job per frame; it takes the fair next frame
    job = frame_queue.take()
    assert job is not None and job.frame_id == response.json()["frame_id"]
    assert job.camera_id == camera.pk and job.data == jpeg
    assert datetime.fromisoformat(job.captured_at) == captured
    assert not _stored_files() and not Frame.objects.exists()  # no row and no file for a frame
    assert frames_queued() == 1
    camera.refresh_from_db()
    assert camera.last_seen_at is not None


@pytest.mark.parametrize(
    ("auth", "status"),
    [(None, 401), ("bw_not-a-real-token", 401), ("", 401)],
    ids=["missing", "wrong", "empty"],
)
def test_a_missing_or_wrong_token_is_refused(camera_with_token, auth, status):
    response = _post(auth, {"image": _upload(_jpeg())})
    assert response.status_code == status
    assert "error" in response.json()
    assert not frames_queued() and not _stored_files()


def test_a_disabled_camera_is_refused(camera_with_token):
    camera, token = camera_with_token
    camera.is_active = False
    camera.save()
    assert _post(token, {"image": _upload(_jpeg())}).status_code == 401
    assert not frames_queued()


def test_a_signed_in_user_is_not_a_camera(cast, camera_with_token):
    client = Client()
    client.force_login(cast["alice"])
    assert client.post(URL, {"image": _upload(_jpeg())}).status_code in (401, 403)
    assert not frames_queued()


def _png_bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (9000, 9000)).save(buffer, format="PNG")  # compresses to ~80 KB, 81 Mpx
    return buffer.getvalue()


def _truncated() -> bytes:
    noisy = np.random.default_rng(1).integers(0, 255, (180, 320, 3), dtype=np.uint8)
    data = encode_jpeg(noisy)
    return data[: len(data) // 2]


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32)).save(buffer, format="GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (dict, 400),
        (lambda: {"image": _upload(b"")}, 400),
        (lambda: {"image": _upload(b"this is not an image at all")}, 415),
        (lambda: {"image": _upload(_gif(), "f.gif")}, 415),
        (lambda: {"image": _upload(_truncated())}, 400),
        (lambda: {"image": _upload(_png_bomb(), "f.png")}, 413),
        (lambda: {"image": _upload(_jpeg()), "captured_at": "yesterday-ish"}, 400),
        (lambda: {"image": _upload(_jpeg()), "captured_at": "2099-01-01T00:00:00Z"}, 400),
    ],
    ids=["no-image", "empty", "not-an-image", "gif", "truncated", "pixel-bomb", "bad-time", "future-time"],
)
def test_a_bad_upload_gets_its_4xx_and_changes_nothing(camera_with_token, payload, status):
    _, token = camera_with_token
    response = _post(token, payload())
    assert response.status_code == status, response.content
    assert "error" in response.json()
    assert not frames_queued() and not _stored_files()


def test_too_many_bytes_get_413(camera_with_token, settings):
    _, token = camera_with_token
    settings.MAX_UPLOAD_BYTES = 2048
    response = _post(token, {"image": _upload(b"\xff\xd8" + bytes(70_000))})
    assert response.status_code == 413
    response = _post(token, {"image": _upload(_jpeg(640, 360))})  # body under the overhead, image over the limit
    assert response.status_code == 413
    assert not frames_queued() and not _stored_files()


def test_a_json_body_is_an_unsupported_type(camera_with_token):
    _, token = camera_with_token
    response = Client().post(URL, {"image": "x"}, content_type="application/json", HTTP_AUTHORIZATION=f"Camera {token}")
    assert response.status_code == 415
    assert not frames_queued()


def test_a_frame_pushed_while_the_broker_is_down_gets_503_and_leaves_nothing(camera_with_token, monkeypatch, settings):
    _, token = camera_with_token

    def broker_down(*args: object) -> None:
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr("alerts.ingest.enqueue", broker_down)
    response = _post(token, {"image": _upload(_jpeg())})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "job queue" in response.json()["error"]
    assert not frames_queued()
    frames_dir = Path(settings.MEDIA_ROOT) / "frames"
    assert not frames_dir.exists() or not any(frames_dir.iterdir())


def test_a_camera_past_its_frame_rate_gets_429_with_retry_after_and_others_are_not_slowed(
    camera_with_token, monkeypatch, settings
):
    from cameras.actions import create_camera

    settings.CAMERA_MAX_FRAMES_PER_SECOND = 1
    settings.CAMERA_RATE_WINDOW_SECONDS = 10
    monkeypatch.setattr("alerts.ingest.enqueue", lambda *args: None)
    # the whole test inside one window, however slowly this machine runs it
    monkeypatch.setattr("cameras.ratelimit.time", type("Clock", (), {"time": staticmethod(lambda: 1_000_003.0)}))
    camera, token = camera_with_token
    _, other = create_camera("Mekong Bank", "Can Tho", "Door")
    for _ in range(10):
        assert _post(token, {"image": _upload(_jpeg())}).status_code == 202
    flooded = _post(token, {"image": _upload(_jpeg())})
    assert flooded.status_code == 429 and flooded["Retry-After"] == "7"
    assert frame_queue.backlog(camera.pk) == 10
    assert _post(other, {"image": _upload(_jpeg())}).status_code == 202
