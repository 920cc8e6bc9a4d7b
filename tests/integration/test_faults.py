"""Faults injected against the real PostgreSQL, Redis and Celery worker of the machine.

1. A Celery worker is SIGKILLed in the middle of a job, again and again: every frame is still
   processed (the sweep re-queues what the dead worker held) and the person makes exactly one alert.
2. PostgreSQL goes down (a TCP relay in front of it is cut, for this process and the worker: the
   shared server is never stopped) or dies in the middle of a write while a camera pushes: 503 with
   Retry-After, no row and no file left; once it is back, pushes go through and the same worker
   processes them, nobody having touched anything.
3. The broker (Redis) becomes unreachable while a camera pushes: 503 with Retry-After, no row and
   no file left; once it is back, the camera's next pushes go through and are processed, with no
   hand on it.
4. A burst of socket disconnects while alerts are raised: resuming with last_event_id, the client
   still receives every alert.

FAULTS counts the faults injected; the totals are printed at the end (`-s`).
"""

import asyncio
import contextlib
import random
import signal
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.test import Client

from alerts import frame_queue
from alerts.models import Alert, Sighting
from alerts.samples import compose, load
from bankwatch.asgi import application
from bankwatch.celery import app as celery_app
from benchmarks.harness import CeleryWorker, wait_for
from cameras.actions import create_camera
from cameras.models import Camera
from retention.jobs import run_all as run_retention
from tests.conftest import DATASET
from tests.factories import enroll, frames_queued, make_alert, make_subject

pytestmark = pytest.mark.integration

FAULTS: Counter[str] = Counter()
SAME_PERSON = ["img2.jpg", "img4.jpg", "img5.jpg", "img6.jpg", "img7.jpg", "img10.jpg"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def frame_files() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "frames"
    return [p for p in folder.iterdir() if p.is_file()] if folder.exists() else []


def push(token: str, jpeg: bytes) -> Any:
    # What Django's handler does at the start of every request in production (the test client leaves
    # it out): a connection the server dropped is noticed and replaced.
    close_old_connections()
    return Client().post(
        "/api/v1/frames", {"image": ContentFile(jpeg, name="f.jpg")}, HTTP_AUTHORIZATION=f"Camera {token}"
    )


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.content[:300]
    assert int(response["Retry-After"]) > 0


@pytest.fixture
def scene(transactional_db, dataset) -> dict[str, Any]:
    camera, token = create_camera("Saigon Bank", "District 1", "Lobby")
    subject = enroll(make_subject("Tran Van Robber"), "img1.jpg")
    frames = [_jpeg(name) for name in SAME_PERSON]
    return {"camera": camera, "token": token, "subject": subject, "frames": frames}


def _jpeg(name: str) -> bytes:
    from recognition.images import encode_jpeg

    return encode_jpeg(compose([load(DATASET / name)]))


@pytest.fixture
def workers(transactional_db, tmp_path, monkeypatch) -> Iterator[list[CeleryWorker]]:
    """Worker processes started on demand (each sighting kept, so the test can count frames on the alert)."""
    monkeypatch.setenv("BANKWATCH_FRAME_MAX_ATTEMPTS", "10")
    monkeypatch.setenv("BANKWATCH_SIGHTING_INTERVAL_SECONDS", "0")
    celery_app.control.purge()
    started: list[CeleryWorker] = []
    yield started
    for worker in started:
        worker.kill(signal.SIGTERM)


def start_worker(workers: list[CeleryWorker], tmp_path: Path) -> CeleryWorker:
    worker = CeleryWorker(tmp_path / f"worker-{len(workers)}.log")
    worker.start()
    workers.append(worker)
    return worker


def claims(state: bytes) -> list[bytes]:
    """Frame claims in Redis (alerts/frame_queue.py) in this state: b"processing" or b"done"."""
    store = frame_queue.store()
    return [key for key in store.client.scan_iter("bankwatch:frames:claim:*") if store.client.get(key) == state]  # type: ignore[union-attr]


def all_done(ids: list[int], timeout: float) -> bool:
    store = frame_queue.store()

    def done() -> bool:
        return all(store.client.get(f"bankwatch:frames:claim:{i}") == b"done" for i in ids)  # type: ignore[union-attr]

    return bool(wait_for(done, timeout=timeout, interval=0.5))


def test_sigkilled_workers_lose_no_frame_and_make_exactly_one_alert(scene, workers, tmp_path, settings, monkeypatch):
    # A dead worker's job comes back from the broker once its visibility timeout passes, and its claim
    # expires after the hard time limit; both are shortened here (for the workers and for this process)
    # so that the test does not wait minutes per kill.
    for name, value in (("BANKWATCH_TASK_TIME_LIMIT", "12"), ("BANKWATCH_TASK_SOFT_TIME_LIMIT", "10")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BANKWATCH_REDELIVERY_SECONDS", "20")
    settings.CELERY_TASK_TIME_LIMIT = 12
    worker = start_worker(workers, tmp_path)
    ids = []
    for jpeg in scene["frames"]:
        response = push(scene["token"], jpeg)
        assert response.status_code == 202, response.content
        ids.append(response.json()["frame_id"])
    kills = interrupted = 0
    for _ in range(5):
        busy = wait_for(lambda: claims(b"processing"), 120, 0.01)
        if not busy:
            break
        worker.kill(signal.SIGKILL)
        kills += 1
        interrupted += bool(claims(b"processing"))  # the dead worker's claim, until it expires
        FAULTS["worker SIGKILL mid-job"] += 1
        worker = start_worker(workers, tmp_path)
    assert interrupted >= 1, worker.output()[-1500:]
    assert all_done(ids, timeout=240), worker.output()[-3000:]
    assert frames_queued() == 0
    assert Alert.objects.count() == 1
    alert = Alert.objects.get()
    assert alert.subject_id == scene["subject"].pk
    seen = list(Sighting.objects.filter(alert=alert).values_list("frame_id", flat=True))
    assert len(seen) == len(set(seen)) >= 2 and set(seen) <= set(ids)
    # A worker killed between saving an alert's image and committing its row leaves a file no row
    # points at; the retention job removes such files, so afterwards every alert file is accounted for.
    settings.RETENTION_ORPHAN_GRACE_SECONDS = 0
    orphans = run_retention()["orphan_files"]
    referenced = {alert.probe_crop.name, alert.evidence_frame.name} | {
        name for s in Sighting.objects.filter(alert=alert) for name in (s.face_crop.name, s.frame_image.name)
    }
    media = Path(settings.MEDIA_ROOT)
    assert {str(p.relative_to(media)) for p in (media / "alerts").rglob("*") if p.is_file()} == referenced
    print(
        f"\nSIGKILLed {kills} workers ({interrupted} mid-job); {len(ids)} frames; 1 alert, {len(seen)} sightings; {orphans} orphan files"
    )


class Link:
    """A TCP relay in front of the machine's PostgreSQL. Cutting it is a database outage for every
    process connected through it (this one and the worker), without stopping the shared server."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pairs: list[socket.socket] = []
        self.up = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self.pairs += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        for end in self.pairs:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        self.pairs = []

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def database_link(transactional_db) -> Iterator[Link]:
    database = settings.DATABASES["default"]
    connection = connections["default"]
    original = database["HOST"], database["PORT"]
    link = Link((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    for config in (database, connection.settings_dict):
        config["HOST"], config["PORT"] = "127.0.0.1", str(link.port)
    connection.close()
    yield link
    link.restore()
    for config in (database, connection.settings_dict):
        config["HOST"], config["PORT"] = original
    connection.close()
    link.close()


def test_a_database_outage_answers_503_writes_nothing_and_work_resumes(scene, database_link, workers, tmp_path):
    worker = start_worker(workers, tmp_path)  # connects through the link too (worker_env)
    assert push(scene["token"], scene["frames"][0]).status_code == 202
    assert wait_for(lambda: not frames_queued(), 120), worker.output()[-3000:]

    database_link.cut()
    for jpeg in scene["frames"][1:4]:
        assert_unavailable(push(scene["token"], jpeg))
        FAULTS["PostgreSQL down during a push"] += 1
    health = Client().get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "failing"  # details: signed-in users only
    database_link.restore()

    close_old_connections()
    assert not frames_queued() and frame_files() == []  # nothing queued, nothing half-written
    # The cameras retry; neither the web process nor the worker is touched, both reconnect by themselves.
    for jpeg in scene["frames"][1:4]:
        assert push(scene["token"], jpeg).status_code == 202
    assert wait_for(lambda: not frames_queued(), 120), worker.output()[-3000:]
    assert worker.process is not None and worker.process.poll() is None


@pytest.mark.parametrize(
    "error",
    [OperationalError("server closed the connection unexpectedly"), InterfaceError("connection already closed")],
    ids=["lost", "already-closed"],
)
def test_the_database_dying_in_the_middle_of_a_push_queues_nothing_and_leaves_no_file(scene, monkeypatch, error):
    # A frame's only database work on the way in is the camera's token (and, every few seconds, its
    # last-seen time): the connection dies there.
    def lost_connection(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(Camera, "authenticate", lost_connection)
    for jpeg in scene["frames"][:2]:
        assert_unavailable(push(scene["token"], jpeg))
        FAULTS["PostgreSQL lost mid-push"] += 1
    monkeypatch.undo()
    assert not frames_queued() and frame_files() == []


def _point_broker_at(url: str) -> None:
    from kombu import pools

    celery_app.conf.broker_url = url
    pools.reset()  # kombu's process-wide connection and producer pools, keyed by connection
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_a_broker_outage_answers_503_leaves_nothing_and_work_resumes_by_itself(scene, workers, tmp_path, settings):
    """While Redis is unreachable a push answers 503 with Retry-After and leaves no row and no file;
    once it is back the camera's next pushes are accepted and processed."""
    broker = celery_app.conf.broker_url
    _point_broker_at(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        for jpeg in scene["frames"][:3]:
            response = push(scene["token"], jpeg)
            assert response.status_code == 503 and response["Retry-After"]
            FAULTS["Redis broker unreachable during a push"] += 1
        assert Client().get("/healthz").status_code == 503
    finally:
        _point_broker_at(broker)
    assert not frames_queued() and frame_files() == []
    ids = []
    for jpeg in scene["frames"][:3]:  # the camera sends again
        response = push(scene["token"], jpeg)
        assert response.status_code == 202
        ids.append(response.json()["frame_id"])
    start_worker(workers, tmp_path)
    assert all_done(ids, timeout=180), workers[-1].output()[-3000:]
    assert frames_queued() == 0 and frame_files() == []


@pytest.mark.asyncio
async def test_a_burst_of_socket_disconnects_loses_no_alert(transactional_db, cast):
    camera, _ = await sync_to_async(create_camera)("Saigon Bank", "District 1", "Lobby")
    subjects = [await sync_to_async(make_subject)(f"Person {i}") for i in range(20)]
    cookie = await sync_to_async(_cookie)(cast["alice"])
    raised: list[int] = []

    async def produce() -> None:
        for subject in subjects:
            alert = await sync_to_async(make_alert)(camera, subject, with_images=False)
            raised.append(alert.pk)
            await asyncio.sleep(random.uniform(0, 0.05))

    producer = asyncio.create_task(produce())
    seen: set[int] = set()
    last_event_id = 0
    drops = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 90
    while loop.time() < deadline and not (producer.done() and seen >= set(raised)):
        socket_ = WebsocketCommunicator(
            application,
            f"/ws/alerts/?last_event_id={last_event_id}",
            headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)],
        )
        connected, _ = await socket_.connect()
        assert connected
        cut_off = False
        for _ in range(random.randint(1, 4)):
            try:
                message = await socket_.receive_json_from(timeout=1)
            except TimeoutError:
                cut_off = True  # the communicator cancels the consumer: a connection lost without a goodbye
                break
            if message.get("type") == "alert.created":
                seen.add(message["alert"]["id"])
            last_event_id = max(last_event_id, message.get("event_id", 0))
        if not cut_off:
            await socket_.disconnect(timeout=10)  # dropped mid-burst, with events possibly in flight
        drops += 1
    await producer
    FAULTS["socket dropped mid-burst"] += drops
    assert seen == set(raised), f"missed {sorted(set(raised) - seen)} after {drops} disconnects"
    await sync_to_async(connections.close_all)()


def _cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def test_zz_report_the_faults_injected():
    print(f"\nfaults injected: {sum(FAULTS.values())} {dict(FAULTS)}")
