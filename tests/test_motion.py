"""Motion gating on a clip made like a branch camera's: an idle lobby, a person walking in, standing still."""

import cv2
import numpy as np
import pytest

from alerts import ingest, motion
from alerts.ingest import store_frame
from alerts.samples import compose, load
from recognition.images import encode_jpeg
from tests.factories import recorded_frames


@pytest.fixture
def gating(settings, monkeypatch):
    settings.MOTION_GATING = True
    settings.STILL_RECHECK_SECONDS = 2.0
    clock = [1_000_000.0]
    monkeypatch.setattr(motion, "_now", lambda: clock[0])
    return clock


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """The frames queued for recognition (no job runs)."""
    monkeypatch.setattr("alerts.ingest.enqueue", lambda name, *args: None)
    return recorded_frames(monkeypatch)


@pytest.fixture
def health_saw(monkeypatch) -> list[int]:
    """Every frame camera health was shown (cameras/health.observe_frame), gated or not."""
    seen: list[int] = []
    real = ingest.observe_frame

    def observe(camera, gray):
        seen.append(camera.pk)
        return real(camera, gray)

    monkeypatch.setattr(ingest, "observe_frame", observe)
    return seen


def _lobby(rng: np.random.Generator) -> np.ndarray:
    """The empty lobby with this frame's sensor noise."""
    wall = compose([]).astype(np.int16)
    return np.clip(wall + rng.integers(-5, 6, wall.shape), 0, 255).astype(np.uint8)


def _with_person(scene: np.ndarray, person: np.ndarray, x: int) -> np.ndarray:
    frame = scene.copy()
    height = 300
    width = round(person.shape[1] * height / person.shape[0])
    fitted = cv2.resize(person, (width, height), interpolation=cv2.INTER_AREA)
    x = min(x, frame.shape[1] - width)
    frame[30 : 30 + height, x : x + width] = fitted
    return frame


def test_an_idle_scene_is_gated_a_person_walking_in_never_and_a_still_one_is_rechecked(
    camera_with_token, dataset, gating, queued, health_saw
):
    camera, _ = camera_with_token
    rng = np.random.default_rng(3)
    person = load(dataset / "img20.jpg")
    fps = 5

    def push(pixels: np.ndarray) -> bool:
        gating[0] += 1 / fps
        return not store_frame(camera, encode_jpeg(pixels, quality=85)).gated

    idle = [push(_lobby(rng)) for _ in range(8)]  # 1.6 s: within the recheck
    assert idle == [True] + [False] * 7

    walking = [push(_with_person(_lobby(rng), person, 20 + 30 * step)) for step in range(10)]
    assert all(walking), str(walking)  # every frame of a person walking in is analysed

    standing = [push(_with_person(_lobby(rng), person, 20 + 30 * 9)) for _ in range(25)]  # 5 s, not moving
    analysed_at = [i for i, analysed in enumerate(standing) if analysed]
    assert analysed_at and len(analysed_at) < len(standing) / 3
    gaps = np.diff([-1, *analysed_at, len(standing)]) / fps
    assert max(gaps) <= 2.0 + 1 / fps  # analysed again at least every STILL_RECHECK_SECONDS

    assert len(queued) == sum(idle) + sum(walking) + len(analysed_at)  # gated frames are not queued
    assert len(health_saw) == len(idle) + len(walking) + len(standing)  # health still sees every frame


def test_with_gating_off_every_frame_is_analysed(camera_with_token, settings, queued):
    settings.MOTION_GATING = False
    camera, _ = camera_with_token
    frame = encode_jpeg(compose([]))
    assert not any(store_frame(camera, frame).gated for _ in range(5))
    assert len(queued) == 5


def test_a_camera_with_a_paired_entrance_display_is_never_gated(camera_with_token, gating, queued):
    from cameras.models import DeviceKind, PairedDevice

    camera, _ = camera_with_token
    PairedDevice.objects.create(camera=camera, kind=DeviceKind.DISPLAY, token_hash="d" * 64)
    frame = encode_jpeg(compose([]))
    assert not any(store_frame(camera, frame).gated for _ in range(5))  # the same still frame five times
    assert len(queued) == 5
