"""One camera cannot starve the others: frames wait per camera and jobs serve the cameras round-robin."""

import os
import socket
import threading
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pytest

from alerts import frame_queue
from alerts.ingest import store_frame
from bankwatch import jobs
from cameras.actions import create_camera
from recognition.images import encode_jpeg

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def _job(camera_id: int, n: int) -> frame_queue.Job:
    return frame_queue.Job(camera_id * 1000 + n, camera_id, "2026-12-03T10:00:00+00:00", b"frame %d" % n)


def _redis_reachable() -> bool:
    url = urlparse(REDIS_URL)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["memory", "redis"])
def queue_store(request, settings) -> Any:
    """Each store the queue has: the embedded mode's, and Redis (skipped where there is none)."""
    if request.param == "memory":
        yield frame_queue._Memory()
        return
    if not _redis_reachable():
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    store = frame_queue._Redis(REDIS_URL)
    store.client.delete(*store.client.keys("bankwatch:frames:*") or ["-"])
    yield store
    store.client.delete(*store.client.keys("bankwatch:frames:*") or ["-"])


def _served(store: Any) -> list[tuple[int, int]]:
    order = []
    while (job := store.take()) is not None:
        order.append((job.camera_id, job.frame_id % 1000))
    return order


def test_cameras_are_served_round_robin_each_in_its_own_order(queue_store):
    for n in range(4):
        queue_store.put(_job(1, n))
    queue_store.put(_job(2, 0))
    queue_store.put(_job(3, 0))
    queue_store.put(_job(2, 1))
    assert _served(queue_store) == [(1, 0), (2, 0), (3, 0), (1, 1), (2, 1), (1, 2), (1, 3)]
    assert queue_store.take() is None


def test_a_frame_removed_before_its_turn_is_never_served(queue_store):
    queue_store.put(_job(1, 0))
    queue_store.put(_job(2, 0))
    queue_store.put(_job(2, 1))
    queue_store.remove(1, 1000)  # the broker refused its job: forgotten
    assert _served(queue_store) == [(2, 0), (2, 1)]
    queue_store.put(_job(1, 1))  # the camera comes back to the ring
    assert _served(queue_store) == [(1, 1)]


def test_a_frame_taken_by_a_worker_that_died_is_taken_again_once_its_claim_expires(queue_store, settings):
    if isinstance(queue_store, frame_queue._Memory):
        pytest.skip("the embedded mode's jobs die with the process that holds the frames")
    queue_store.put(_job(1, 0))
    assert queue_store.take().frame_id == 1000  # and its worker is SIGKILLed
    assert queue_store.take() is None  # within the claim's lifetime nobody takes it
    queue_store.client.zadd("bankwatch:frames:taken", {"1000": 0})  # the claim's lifetime is over
    assert queue_store.take().frame_id == 1000
    queue_store.remove(1, 1000)  # finished
    queue_store.client.zadd("bankwatch:frames:taken", {"1000": 0})
    assert queue_store.take() is None


@pytest.mark.django_db(transaction=True)
def test_one_frame_of_another_camera_is_processed_before_a_flooding_cameras_backlog(settings, monkeypatch):
    """Camera A pushes 400 frames, then camera B (another bank) one: B's frame is processed next but
    one, not after A's 400 (the job queue was first in, first out)."""
    settings.JOB_BACKEND = "thread"
    settings.CAMERA_MAX_BACKLOG = 1000
    monkeypatch.setattr(jobs, "_executor", None)
    settings.JOB_THREADS = 1
    a, _ = create_camera("Saigon Bank", "District 1", "Lobby")
    b, _ = create_camera("Mekong Bank", "Can Tho", "Door")
    processed: list[int] = []
    first_running, flood_queued = threading.Event(), threading.Event()

    def process(frame_id: int, camera_id: int, captured_at: str, data: bytes) -> None:
        first_running.set()
        flood_queued.wait(30)  # the first frame of A is in work while the rest arrive
        processed.append(camera_id)
        frame_queue.finish(camera_id, frame_id)

    monkeypatch.setattr("alerts.pipeline.process_frame", process)
    jpeg = encode_jpeg(np.full((90, 160, 3), 80, dtype=np.uint8))
    store_frame(a, jpeg)
    assert first_running.wait(30)
    for _ in range(399):
        store_frame(a, jpeg)
    store_frame(b, jpeg)
    flood_queued.set()
    try:
        assert jobs.wait_idle(120)
    finally:
        jobs.executor().shutdown(wait=True)
    assert len(processed) == 401 and processed.count(b.pk) == 1
    assert processed.index(b.pk) <= 2, f"camera B's frame came {processed.index(b.pk) + 1}th of 401"
    assert frame_queue.backlog(a.pk) == 0 and frame_queue.backlog(b.pk) == 0
