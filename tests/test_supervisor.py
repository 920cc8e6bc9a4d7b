"""The stream supervisor (run_cameras) against real streams: Debian's ffmpeg behind an RTSP server, and an
HTTP snapshot URL behind digest authentication (tests/streams.py). Recognition is real where an alert
is claimed; elsewhere the recognition job is not queued, so that only reading is under test."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from alerts import frame_queue, ingest
from alerts.models import Alert
from alerts.samples import load
from cameras import health
from cameras import supervisor as supervision
from cameras.actions import bump_config, create_camera
from cameras.models import Camera, StreamLease
from cameras.sources import Sample, SourceError
from cameras.supervisor import CameraReader, Supervisor
from tests.factories import enroll, make_subject
from tests.streams import RtspCamera, SnapshotCamera, make_clip

PASSWORD = "Hik-Pa55-9sQz"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def events(monkeypatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(health, "publish", lambda groups, event: sent.append(event["camera"]))
    return sent


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Frames handed to the job queue, where they wait (recognition is not under test here)."""
    frame_ids: list[int] = []
    real_put = frame_queue.put

    def put(job: frame_queue.Job) -> None:
        frame_ids.append(job.frame_id)
        real_put(job)

    monkeypatch.setattr(frame_queue, "put", put)
    monkeypatch.setattr(ingest, "enqueue", lambda name, *args: None)
    return frame_ids


@pytest.fixture
def recognised(monkeypatch) -> list[int]:
    """The cameras of frames queued, each done at once as a frame that matched no one."""
    camera_ids: list[int] = []

    def done(name: str, *args: object) -> None:
        job = frame_queue.take()  # what the job would take: the fair next frame
        assert job is not None
        camera_ids.append(job.camera_id)
        frame_queue.finish(job.camera_id, job.frame_id)

    monkeypatch.setattr(ingest, "enqueue", done)
    return camera_ids


def run_in_background(supervisor: Supervisor) -> threading.Thread:
    thread = threading.Thread(target=supervisor.run, daemon=True)
    thread.start()
    return thread


def wait_for(predicate, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return None


def lobby(dataset: Path) -> np.ndarray:
    return cv2.resize(load(dataset / "img1.jpg"), (320, 240))


def sampled_rate(recognised: list, after: int, seconds: float = 3.0) -> float:
    """Frames per second reaching recognition over `seconds`, once the first `after` have arrived."""
    assert wait_for(lambda: len(recognised) >= after, timeout=30)
    started, count = time.monotonic(), len(recognised)
    time.sleep(seconds)
    return (len(recognised) - count) / (time.monotonic() - started)


def test_a_digest_protected_snapshot_camera_is_read_at_its_rate_and_judged_online(dataset, recognised, events, caplog):
    snapshots = SnapshotCamera("viewer", PASSWORD, lobby(dataset))
    camera, _ = create_camera(
        "Saigon Bank",
        "District 1",
        "Door",
        stream_url=f"http://viewer:{PASSWORD}@127.0.0.1:{snapshots.port}/snapshot.jpg",
    )
    supervisor = Supervisor()
    thread = run_in_background(supervisor)
    try:
        rate = sampled_rate(recognised, after=10)
        assert 3 <= rate <= 6.5  # 5 frames/s by default
        assert set(recognised) == {camera.pk}
        assert wait_for(lambda: Camera.objects.get(pk=camera.pk).health == "online")
        assert events[0]["status"] == "online" and snapshots.unauthorised >= 1  # digest: challenged, then answered
    finally:
        supervisor.stopping.set()
        thread.join(timeout=20)
        snapshots.close()
    assert not StreamLease.objects.exists()  # given back on the way out
    assert PASSWORD not in caplog.text


def test_a_wrong_password_is_an_error_in_words_without_the_password(dataset, queued, caplog):
    snapshots = SnapshotCamera("viewer", PASSWORD, lobby(dataset))
    camera, _ = create_camera(
        "Saigon Bank",
        "District 1",
        "Door",
        stream_url=f"http://viewer:wrong-{PASSWORD}@127.0.0.1:{snapshots.port}/snapshot.jpg",
    )
    supervisor = Supervisor()
    thread = run_in_background(supervisor)
    try:
        assert wait_for(lambda: Camera.objects.get(pk=camera.pk).last_error)
    finally:
        supervisor.stopping.set()
        thread.join(timeout=20)
        snapshots.close()
    error = Camera.objects.get(pk=camera.pk).last_error
    assert "401" in error and "password" in error and PASSWORD not in error
    assert not queued and PASSWORD not in caplog.text


def test_frames_are_skipped_not_queued_while_recognition_is_behind_and_still_count_as_alive(
    dataset, queued, events, settings
):
    settings.STREAM_MAX_BACKLOG = 2
    snapshots = SnapshotCamera("viewer", PASSWORD, lobby(dataset))
    camera, _ = create_camera("B", "BR", "Door", stream_url=snapshots.url, username="viewer", password=PASSWORD)
    supervisor = Supervisor()
    thread = run_in_background(supervisor)
    try:
        assert wait_for(lambda: supervisor.summary().get(str(camera.pk), {}).get("skipped", 0) >= 10)
    finally:
        supervisor.stopping.set()
        thread.join(timeout=20)
        snapshots.close()
    assert len(queued) == frame_queue.backlog(camera.pk) <= 3  # the queued frames never ran
    assert Camera.objects.get(pk=camera.pk).health == "online"


def test_a_reader_reconnects_with_growing_back_off(monkeypatch, db):
    camera, _ = create_camera("B", "BR", "Door", stream_url="rtsp://camera.invalid/stream")
    attempts: list[int] = []

    def flaky(config, stop, counters, **options) -> Iterator[Sample]:
        attempts.append(1)
        if len(attempts) <= 2:
            raise SourceError("cannot open the stream: connection refused")
        yield Sample(bgr=np.full((90, 160, 3), 128, dtype=np.uint8))
        stop.set()

    monkeypatch.setattr(supervision, "samples", flaky)
    stored: list[int] = []
    monkeypatch.setattr(CameraReader, "take", lambda self, sample: stored.append(sample.bgr.shape[1]))
    reader = CameraReader(camera, lease_seconds=600, max_backlog=8)
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return reader.stop_event.is_set()

    monkeypatch.setattr(reader.stop_event, "wait", wait)
    reader.run()
    assert waits[:2] == [1.0, 2.0] and stored == [160] and reader.stats.reconnects == 2
    assert Camera.objects.get(pk=camera.pk).last_error == "cannot open the stream: connection refused"


def test_configuration_changes_take_effect_without_a_restart(dataset, recognised, settings):
    snapshots = SnapshotCamera("viewer", PASSWORD, lobby(dataset))
    camera, _ = create_camera("B", "BR", "Door", stream_url=snapshots.url, username="viewer", password=PASSWORD)
    supervisor = Supervisor()
    thread = run_in_background(supervisor)
    try:
        assert wait_for(lambda: camera.pk in supervisor.readers)
        first = supervisor.readers[camera.pk]
        Camera.objects.filter(pk=camera.pk).update(fps=2.0)
        bump_config(camera.pk)
        assert wait_for(lambda: supervisor.readers.get(camera.pk) not in (None, first), timeout=10)
        assert supervisor.readers[camera.pk].config.fps == 2.0
        Camera.objects.filter(pk=camera.pk).update(is_active=False)
        assert wait_for(lambda: camera.pk not in supervisor.readers, timeout=10)
        # The reader leaves the map before its lease is released: wait for both.
        assert wait_for(lambda: not StreamLease.objects.filter(camera=camera).exists(), timeout=10)
        added, _ = create_camera("B", "BR", "Counter", stream_url=snapshots.url, username="viewer", password=PASSWORD)
        assert wait_for(lambda: added.pk in supervisor.readers, timeout=10)
    finally:
        supervisor.stopping.set()
        thread.join(timeout=20)
        snapshots.close()


def test_two_supervisors_share_the_cameras_and_one_takes_over_when_the_other_dies(dataset, recognised, settings):
    settings.STREAM_LEASE_SECONDS = 4
    snapshots = SnapshotCamera("viewer", PASSWORD, lobby(dataset))
    cameras = [
        create_camera("B", "BR", f"Cam {i}", stream_url=snapshots.url, username="viewer", password=PASSWORD)[0]
        for i in range(4)
    ]
    first, second = Supervisor(name="first"), Supervisor(name="second")
    try:
        for _ in range(4):
            first.tick()
            second.tick()
        assert set(first.readers) | set(second.readers) == {c.pk for c in cameras}
        assert not set(first.readers) & set(second.readers) and len(first.readers) == len(second.readers) == 2
        orphans = set(first.readers)
        for reader in first.readers.values():  # the first dies: its readers stop, its leases stay until they expire
            reader.stop()
        first.readers.clear()
        second.tick()
        assert set(second.readers).isdisjoint(orphans)  # not while the dead one's leases hold
        deadline = time.monotonic() + settings.STREAM_LEASE_SECONDS + 3
        while not orphans <= set(second.readers) and time.monotonic() < deadline:
            time.sleep(0.5)
            second.tick()
        assert orphans <= set(second.readers)
    finally:
        first.shutdown()
        second.shutdown()
        snapshots.close()


@pytest.mark.timeout(180)
def test_an_rtsp_camera_raises_its_alert_goes_offline_when_the_stream_stops_and_back_online(
    dataset, tmp_path, events, caplog
):
    subject = enroll(make_subject("Tran Van Robber"), "img1.jpg")
    clip = make_clip(tmp_path / "door.mp4", [dataset / "img2.jpg"], seconds_each=4)
    rtsp = RtspCamera(clip, "admin", PASSWORD, tmp_path)
    rtsp.start()
    camera, _ = create_camera(
        "Saigon Bank", "District 1", "Door", stream_url=rtsp.url.replace("rtsp://", f"rtsp://admin:{PASSWORD}@")
    )
    supervisor = Supervisor()
    thread = run_in_background(supervisor)
    try:
        assert wait_for(lambda: Alert.objects.filter(camera=camera, subject=subject).exists(), timeout=60)
        assert wait_for(lambda: Camera.objects.get(pk=camera.pk).health == "online")
        rtsp.stop()
        stopped = time.monotonic()
        assert wait_for(lambda: any(e["status"] == "offline" for e in events), timeout=25)
        assert time.monotonic() - stopped <= 20
        rtsp.start()
        assert wait_for(lambda: events[-1]["status"] == "online", timeout=60)
    finally:
        supervisor.stopping.set()
        thread.join(timeout=30)
        rtsp.stop()
    assert PASSWORD not in caplog.text and PASSWORD not in Camera.objects.get(pk=camera.pk).last_error


@pytest.mark.parametrize(("symptom", "expected"), [("black", "obstructed"), ("frozen", "frozen"), ("other", "moved")])
def test_a_snapshot_stream_that_turns_black_freezes_or_shows_another_scene_raises_that_state(
    symptom, expected, dataset, recognised, events, settings
):
    # Shorter durations than in the field (5, 30 and 10 s), so that the test is quick; what counts
    # as black, frozen or moved is the product's own.
    settings.CAMERA_OBSTRUCTED_SECONDS, settings.CAMERA_FROZEN_SECONDS, settings.CAMERA_MOVED_SECONDS = 2, 3, 2
    scene = lobby(dataset)
    snapshots = SnapshotCamera("viewer", PASSWORD, scene)
    camera, _ = create_camera("B", "BR", "Door", stream_url=snapshots.url, username="viewer", password=PASSWORD)
    supervisor = Supervisor()
    thread = run_in_background(supervisor)
    try:
        assert wait_for(lambda: [e["status"] for e in events] == ["online"], timeout=30)
        time.sleep(1)  # the reference view is taken from the first normal frames
        other = cv2.resize(load(dataset / "couple.jpg"), (320, 240))
        snapshots.show(
            {
                "black": SnapshotCamera.black(scene.shape),
                "frozen": SnapshotCamera.frozen(scene),
                "other": SnapshotCamera.live(other),
            }[symptom]
        )
        assert wait_for(lambda: events[-1]["status"] == expected, timeout=30), [e["status"] for e in events]
        assert events[-1]["tampered"] is True and Camera.objects.get(pk=camera.pk).health == expected
        snapshots.show(SnapshotCamera.live(scene))
        assert wait_for(lambda: events[-1]["status"] == "online", timeout=30)
        assert [e["status"] for e in events] == ["online", expected, "online"]
    finally:
        supervisor.stopping.set()
        thread.join(timeout=20)
        snapshots.close()


def test_an_mjpeg_camera_behind_digest_is_read_at_its_rate_not_at_the_streams(dataset, recognised, events):
    snapshots = SnapshotCamera("viewer", PASSWORD, lobby(dataset))
    camera, _ = create_camera(
        "B", "BR", "Hall", source="http_mjpeg", stream_url=f"http://127.0.0.1:{snapshots.port}/mjpeg",
        username="viewer", password=PASSWORD, fps=2,
    )  # fmt: skip
    supervisor = Supervisor()
    thread = run_in_background(supervisor)
    try:
        rate = sampled_rate(recognised, after=4)
        assert 1 <= rate <= 3  # the camera's 2 frames/s, of the stream's 10
        assert events[0]["status"] == "online" and set(recognised) == {camera.pk}
        assert supervisor.summary()[str(camera.pk)]["decoded"] > 2 * supervisor.summary()[str(camera.pk)]["stored"]
    finally:
        supervisor.stopping.set()
        thread.join(timeout=20)
        snapshots.close()


def test_the_embedded_server_reads_its_pulled_cameras_itself_and_only_in_the_embedded_mode(
    dataset, recognised, settings, monkeypatch
):
    snapshots = SnapshotCamera("viewer", PASSWORD, lobby(dataset))
    camera, _ = create_camera(
        "Saigon Bank", "District 1", "Door", username="viewer", password=PASSWORD,
        stream_url=f"http://127.0.0.1:{snapshots.port}/snapshot.jpg",
    )  # fmt: skip
    monkeypatch.setattr(supervision, "_embedded", None)
    settings.EMBEDDED_CAMERAS = True
    settings.JOB_BACKEND = "celery"
    assert not supervision.start_embedded_supervisor()  # production runs run_cameras processes instead
    settings.JOB_BACKEND = "thread"
    try:
        assert supervision.start_embedded_supervisor()
        assert not supervision.start_embedded_supervisor()  # one per server process
        assert wait_for(lambda: camera.pk in recognised, timeout=30)
        embedded = supervision._embedded
        assert embedded is not None and StreamLease.objects.get(camera=camera).holder == embedded.name
    finally:
        if supervision._embedded is not None:
            supervision._embedded.stopping.set()
        assert wait_for(lambda: not StreamLease.objects.exists(), timeout=20)  # given back on the way out
        snapshots.close()
