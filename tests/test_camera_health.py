"""Camera health from thumbnails: each change of state is one row update, one audit entry, one live event."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from django.utils import timezone

from alerts.samples import load
from audit.models import AuditEntry
from cameras import health
from cameras.actions import create_camera
from cameras.models import Camera

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(health.time, "time", clock.time)
    return clock


@pytest.fixture
def events(monkeypatch) -> list[tuple[list[str], dict[str, Any]]]:
    sent: list[tuple[list[str], dict[str, Any]]] = []
    monkeypatch.setattr(health, "publish", lambda groups, event: sent.append((groups, event)))
    return sent


@pytest.fixture
def captured_on_commit(monkeypatch) -> None:
    """The test's transaction never commits: run what waits for the commit at once."""
    monkeypatch.setattr(health.transaction, "on_commit", lambda callback, *args, **kwargs: callback())


def scene(dataset: Path, name: str) -> np.ndarray:
    return cv2.resize(load(dataset / name), (320, 180), interpolation=cv2.INTER_AREA)


def noisy(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(image.astype(np.float32) + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)


def feed(camera: Camera, clock: Clock, frames: Any, seconds: float, fps: float = 5) -> str:
    status = ""
    for _ in range(int(seconds * fps)):
        clock.now += 1 / fps
        status = health.observe_frame(camera, health.thumbnail(next(frames)))
    return status


def live(image: np.ndarray) -> Any:
    rng = np.random.default_rng(7)
    while True:
        yield noisy(image, rng)


def repeat(image: np.ndarray) -> Any:
    while True:
        yield image


@pytest.mark.parametrize(
    ("symptom", "expected"),
    [("black", "obstructed"), ("frozen", "frozen"), ("other scene", "moved")],
)
def test_a_stream_that_turns_black_freezes_or_shows_another_scene_raises_that_tamper_state(
    symptom, expected, dataset, clock, events, captured_on_commit
):
    camera, _ = create_camera("Saigon Bank", "District 1", "Door")
    lobby = scene(dataset, "img1.jpg")
    assert feed(camera, clock, live(lobby), seconds=3) == "online"
    frames = {
        "black": live(np.zeros_like(lobby)),
        "frozen": repeat(noisy(lobby, np.random.default_rng(1))),
        "other scene": live(scene(dataset, "couple.jpg")),
    }[symptom]
    before = {"black": 4, "frozen": 28, "other scene": 9}[symptom]  # just under each symptom's duration
    assert feed(camera, clock, frames, seconds=before) == "online"
    assert feed(camera, clock, frames, seconds=3) == expected

    camera.refresh_from_db()
    assert camera.health == expected and camera.health_since is not None and camera.last_error
    changes = list(AuditEntry.objects.filter(action="camera.health_changed", object_id=str(camera.pk)).order_by("id"))
    assert [entry.detail["status"] for entry in changes] == ["online", expected]
    assert [event["camera"]["status"] for _, event in events] == ["online", expected]
    groups, event = events[-1]
    assert event["type"] == "camera.updated" and event["camera"]["tampered"] is True
    assert sorted(groups) == sorted([f"branch-{camera.branch_id}", f"bank-{camera.branch.bank_id}"])

    # The scene back as it was: online again, which clears the tamper alert.
    assert feed(camera, clock, live(lobby), seconds=2) == "online"
    assert events[-1][1]["camera"]["status"] == "online" and events[-1][1]["camera"]["tampered"] is False


def test_a_live_scene_with_people_passing_stays_online(dataset, clock, events, captured_on_commit):
    camera, _ = create_camera("Saigon Bank", "District 1", "Door")
    lobby = scene(dataset, "img1.jpg")
    feed(camera, clock, live(lobby), seconds=2)
    visitor = scene(dataset, "img2.jpg")[40:140, 100:180]
    rng = np.random.default_rng(3)
    for step in range(60 * 5):  # a minute of someone crossing the view, back and forth
        frame = noisy(lobby, rng)
        x = (step * 4) % 240
        frame[60:160, x : x + 80] = visitor
        clock.now += 0.2
        assert health.observe_frame(camera, health.thumbnail(frame)) == "online"
    assert [event["camera"]["status"] for _, event in events] == ["online"]


def test_a_camera_silent_for_the_offline_time_goes_offline_once(settings, events, captured_on_commit):
    camera, _ = create_camera("Saigon Bank", "District 1", "Door")
    Camera.objects.filter(pk=camera.pk).update(health="online", last_seen_at=timezone.now() - timedelta(seconds=10))
    assert health.sweep_offline() == []
    later = timezone.now() + timedelta(seconds=settings.CAMERA_OFFLINE_SECONDS)
    assert health.sweep_offline(later) == [camera.pk]
    assert health.sweep_offline(later) == []  # one change, one event
    camera.refresh_from_db()
    assert camera.health == "offline" and "no frame" in camera.last_error
    assert [event["camera"]["status"] for _, event in events] == ["offline"]
    assert AuditEntry.objects.filter(action="camera.health_changed", object_id=str(camera.pk)).count() == 1


def test_a_pushed_frame_is_judged_in_the_upload_check_and_counted(
    camera_with_token, dataset, events, captured_on_commit
):
    from alerts.ingest import store_frame

    camera, _ = camera_with_token
    store_frame(camera, (dataset / "img1.jpg").read_bytes())
    camera.refresh_from_db()
    assert camera.health == "online" and camera.reference_view is not None
    assert events[-1][1]["camera"]["camera_id"] == camera.pk


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_health_change_reaches_the_branch_staff_live_and_not_another_bank(cast):
    from channels.db import database_sync_to_async

    from tests.test_websocket import _connect

    camera, _ = await database_sync_to_async(create_camera)("Saigon Bank", "District 1", "Door")
    ours, ok1, _ = await _connect(cast["alice"])
    theirs, ok2, _ = await _connect(cast["charlie"])
    assert ok1 and ok2
    assert await database_sync_to_async(health.change_health)(camera.pk, "obstructed", "the view is black")
    message = await ours.receive_json_from(timeout=3)
    assert message["type"] == "camera.updated"
    assert (message["camera"]["camera_id"], message["camera"]["status"]) == (camera.pk, "obstructed")
    assert message["camera"]["last_error"] == "the view is black" and message["camera"]["tampered"] is True
    assert await theirs.receive_nothing(timeout=0.3)
    await ours.disconnect()
    await theirs.disconnect()


def test_the_dashboard_lists_the_tampered_cameras_of_the_users_scope(cast):
    from django.test import Client

    door, _ = create_camera("Saigon Bank", "District 1", "Door")
    hall, _ = create_camera("Mekong Bank", "Can Tho", "Hall")
    for camera in (door, hall):
        health.change_health(camera.pk, "moved", "the scene no longer matches the reference view")
    client = Client()
    client.force_login(cast["alice"])
    page = client.get("/dashboard/")
    ids = [c["camera_id"] for c in page.context["camera_health"]["tampered"]]
    assert ids == [door.pk] and 'id="camera-alerts"' in page.content.decode()


def test_after_a_planned_move_the_admin_takes_the_new_view_as_reference_and_the_camera_is_online_again(
    dataset, clock, events, captured_on_commit, client
):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from tests.conftest import verify_second_factor

    camera, _ = create_camera("Saigon Bank", "District 1", "Door")
    assert feed(camera, clock, live(scene(dataset, "img1.jpg")), seconds=3) == "online"
    assert feed(camera, clock, live(scene(dataset, "couple.jpg")), seconds=12) == "moved"

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-Root-12345")
    client.force_login(admin)
    verify_second_factor(client, admin)
    response = client.post(
        reverse("admin:cameras_camera_changelist"),
        {"action": "reset_reference_views", "_selected_action": [camera.pk]},
    )
    assert response.status_code == 302
    camera.refresh_from_db()
    assert camera.reference_view is None
    entry = AuditEntry.objects.get(action="camera.reference_reset", object_id=str(camera.pk))
    assert entry.actor_id == admin.pk

    # The new scene is now the normal view: online again, and it stays so.
    assert feed(camera, clock, live(scene(dataset, "couple.jpg")), seconds=12) == "online"
    assert Camera.objects.get(pk=camera.pk).health == "online"
