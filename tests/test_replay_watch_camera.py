"""watch_camera: pulls a stream into the same pipeline, and reconnects with back-off when it cannot open it."""

import io
import json

import cv2
import numpy as np
import pytest
from django.core.management import call_command

from alerts.management.commands import watch_camera
from alerts.models import Alert, Frame
from alerts.samples import compose, load
from tests.factories import enroll, make_subject


@pytest.mark.django_db(transaction=True)
def test_it_feeds_a_stream_into_the_pipeline(camera_with_token, dataset, tmp_path):
    camera, _ = camera_with_token
    enroll(make_subject("Tran Van Robber"), "img1.jpg")
    clip = tmp_path / "door.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 4, (640, 360))
    for pixels in [compose([load(dataset / "img2.jpg")])] * 12:
        writer.write(pixels)
    writer.release()

    out = io.StringIO()
    call_command("watch_camera", str(camera.pk), str(clip), "--fps", "2", "--max-frames", "4", stdout=out)

    assert json.loads(out.getvalue().splitlines()[-1]) == {
        "camera_id": camera.pk,
        "frames": 4,
        "skipped": 0,
        "reconnects": 0,
    }
    assert Alert.objects.filter(camera=camera, subject__full_name="Tran Van Robber").count() == 1
    assert not Frame.objects.exists()


class FlakyStream:
    """Cannot be opened twice, then gives blank frames."""

    opens = 0

    def __init__(self, url: str) -> None:
        FlakyStream.opens += 1
        self.ok = FlakyStream.opens > 2

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.ok

    def read(self) -> tuple[bool, np.ndarray]:
        return True, np.full((90, 160, 3), 128, dtype=np.uint8)

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        pass


def test_it_reconnects_with_growing_back_off(camera_with_token, monkeypatch):
    camera, _ = camera_with_token
    waits: list[float] = []
    monkeypatch.setattr(watch_camera.cv2, "VideoCapture", FlakyStream)
    monkeypatch.setattr(watch_camera.time, "sleep", waits.append)
    stored: list[int] = []
    monkeypatch.setattr(watch_camera, "store_pixels", lambda camera, pixels: stored.append(pixels.shape[1]))

    out = io.StringIO()
    call_command(
        "watch_camera", str(camera.pk), "rtsp://camera.invalid/stream", "--max-frames", "2", "--fps", "1000", stdout=out
    )

    assert waits == [1.0, 2.0]
    assert stored == [160, 160]
    assert json.loads(out.getvalue().splitlines()[-1])["reconnects"] == 2
