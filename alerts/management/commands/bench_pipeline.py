"""Benchmark of the frame pipeline in the embedded mode, on a scratch database and media folder.

1. Frames per second of one worker process (pinned to --cores cores) running the recognition
   job on stored 640x360 JPEG frames with 0, 1 and 5 faces, none of them on the watchlist,
   by the wall clock and by the process's CPU time (the second does not drop when other
   programs share the cores), plus where the time of a 1-face frame goes.
2. POST to alert event: a watchlisted person's frame is posted (it waits for agreement), then a
   second one; the time from that second POST until the `alert.created` event reaches a
   channel-layer client subscribed to the bank, p50 and p95. Agreement is always required here
   (no strong-score shortcut) and the cool-down is off, so every pair raises a new alert.
"""

import asyncio
import contextlib
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from accounts.scope import bank_group
from alerts import pipeline
from alerts.models import Frame
from alerts.samples import compose, load
from bankwatch import events, jobs
from cameras.actions import create_camera
from cameras.models import Camera
from recognition.engine import get_engine
from recognition.images import decode_image, encode_jpeg

NOT_LISTED = {"0_faces": [], "1_face": ["img20.jpg"], "5_faces": [f"img{n}.jpg" for n in (22, 23, 24, 25, 26)]}
LISTED_ENROLL, LISTED_FRAMES = "img1.jpg", ("img2.jpg", "img4.jpg")


@contextmanager
def scratch_environment() -> Iterator[None]:
    """A throw-away database and media folder, embedded-mode jobs; nothing of the real data is touched."""
    folder = Path(tempfile.mkdtemp(prefix="bankwatch-bench-"))
    if connection.vendor == "sqlite":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(folder / "bench.sqlite3")
    with override_settings(
        MEDIA_ROOT=folder / "media",
        JOB_BACKEND="thread",
        CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        SECURE_SSL_REDIRECT=False,
        ALERT_COOLDOWN_SECONDS=0,
        AGREEMENT_STRONG_MARGIN=2.0,
    ):
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            yield
        finally:
            jobs.wait_idle(60)
            connection.creation.destroy_test_db(old_name, verbosity=0)
            shutil.rmtree(folder, ignore_errors=True)


class EventListener:
    """A channel-layer client on its own event loop, standing in for a dashboard socket of the bank."""

    _task: "asyncio.Task[None]"

    def __init__(self, group: str) -> None:
        from channels.layers import get_channel_layer

        self.loop = asyncio.new_event_loop()
        self.received: Queue[tuple[float, dict[str, Any]]] = Queue()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.layer = get_channel_layer()
        self._run(self._start(group))

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    async def _start(self, group: str) -> None:
        events.remember_server_loop()  # job threads publish onto this loop, as onto daphne's
        channel = await self.layer.new_channel()
        await self.layer.group_add(group, channel)
        self._task = self.loop.create_task(self._receive(channel))

    async def _receive(self, channel: str) -> None:
        from redis.exceptions import RedisError

        while True:
            try:
                message = await self.layer.receive(channel)
            except (RedisError, TimeoutError):
                # channels_redis waits with a blocking pop that can outlast the socket's read
                # time-out while nothing is sent: ask again.
                continue
            self.received.put((time.perf_counter(), message))

    def wait_for(self, kind: str, timeout: float = 10.0) -> float:
        deadline = time.monotonic() + timeout
        while True:
            at, message = self.received.get(timeout=max(0.01, deadline - time.monotonic()))
            if message.get("type") == kind:
                return at

    def close(self) -> None:
        async def stop() -> None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

        with contextlib.suppress(Exception):  # the layer may already be gone (Redis restarted)
            self._run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)


def post_frame(client: Client, token: str, jpeg: bytes) -> None:
    """POST one frame as a camera does; any answer but 202 stops the benchmark."""
    upload = ContentFile(jpeg, name="frame.jpg")
    response = client.post("/api/v1/frames", {"image": upload}, HTTP_AUTHORIZATION=f"Camera {token}")
    if response.status_code != 202:
        raise CommandError(f"frame refused: {response.status_code} {response.content[:200]!r}")


class Command(BaseCommand):
    help = "Measure recognition throughput per worker process and POST-to-alert-event latency (embedded mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--frames", type=int, default=30, help="frames timed per kind")
        parser.add_argument("--pairs", type=int, default=20, help="alerts raised for the latency figures")
        parser.add_argument("--cores", type=int, default=1, help="pin this process to N cores (0: all)")
        parser.add_argument("--dataset", default=str(Path(settings.BASE_DIR).parent / "shared/datasets/deepface-unit"))

    def handle(self, *args: Any, **options: Any) -> None:
        dataset = Path(options["dataset"])
        if not (dataset / LISTED_ENROLL).exists():
            raise CommandError(f"photos not found in {dataset}")
        cores = options["cores"]
        if cores and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:cores]))
            cv2.setNumThreads(cores)
        engine = get_engine()
        with scratch_environment():
            camera, token = create_camera("Bench Bank", "Bench Branch", "Bench camera")
            self._enroll(dataset)
            throughput = {
                kind: self._throughput(
                    camera, encode_jpeg(compose([load(dataset / n) for n in names])), options["frames"]
                )
                for kind, names in NOT_LISTED.items()
            }
            stages = self._stages(encode_jpeg(compose([load(dataset / NOT_LISTED["1_face"][0])])), options["frames"])
            latency = self._latency(camera, token, dataset, options["pairs"])
        self.stdout.write(
            json.dumps(
                {
                    "model": engine.model_id,
                    "frame": "640x360 JPEG",
                    "cores": cores or os.cpu_count(),
                    "frames_per_second_per_worker": throughput,
                    "one_face_stages_ms": stages,
                    "post_to_alert_event_ms": latency,
                }
            )
        )

    def _enroll(self, dataset: Path) -> None:
        from enrollment.actions import add_photo, create_subject, create_watchlist, enroll_photo

        subject = create_subject(create_watchlist("Bench watchlist"), "Bench Subject")
        photo = add_photo(subject, (dataset / LISTED_ENROLL).read_bytes(), LISTED_ENROLL)
        jobs.wait_idle(60)
        photo.refresh_from_db()
        if photo.status != "accepted":
            photo = enroll_photo(photo.pk)

    def _throughput(self, camera: Camera, jpeg: bytes, count: int) -> dict[str, Any]:
        """The job itself (claim, read, decode, detect, embed, search, delete) on frames already stored."""
        frame_ids = []
        for _ in range(count + 2):
            frame = Frame(camera=camera, captured_at=timezone.now())
            frame.image.save("bench.jpg", ContentFile(jpeg), save=False)
            frame.save()
            frame_ids.append(frame.pk)
        faces = [pipeline.process_frame(i) for i in frame_ids[:2]]  # warm-up
        started, cpu_started = time.perf_counter(), time.process_time()
        for frame_id in frame_ids[2:]:
            pipeline.process_frame(frame_id)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        return {
            "faces": faces[0].faces if faces[0] else None,
            "fps": round(count / seconds, 1),
            "ms_per_frame": round(1000 * seconds / count, 1),
            # CPU time of this process: what a frame costs a core, whatever else the machine is doing.
            "fps_per_cpu_second": round(count / cpu_seconds, 1),
        }

    def _stages(self, jpeg: bytes, count: int) -> dict[str, float]:
        engine = get_engine()
        started = time.perf_counter()
        for _ in range(count):
            image = decode_image(jpeg, max_side=settings.RECOGNITION_DETECT_MAX_SIDE)
        decoded = time.perf_counter()
        for _ in range(count):
            engine.analyze(image)
        analysed = time.perf_counter()
        return {
            "decode": round(1000 * (decoded - started) / count, 1),
            "detect_and_embed": round(1000 * (analysed - decoded) / count, 1),
        }

    def _latency(self, camera: Camera, token: str, dataset: Path, pairs: int) -> dict[str, Any]:
        listener = EventListener(bank_group(camera.branch.bank_id))
        client = Client()
        first, second = (encode_jpeg(compose([load(dataset / name)])) for name in LISTED_FRAMES)

        def post(jpeg: bytes) -> None:
            post_frame(client, token, jpeg)

        samples = []
        try:
            for _ in range(pairs):
                post(first)  # waits in PendingMatch for agreement
                jobs.wait_idle(30)
                started = time.perf_counter()
                post(second)
                try:
                    samples.append(1000 * (listener.wait_for("alert.created") - started))
                except Empty:
                    raise CommandError("no alert event within 10 s") from None
                jobs.wait_idle(30)
        finally:
            listener.close()
        samples.sort()
        return {
            "n": len(samples),
            "p50": round(statistics.median(samples), 1),
            "p95": round(float(np.percentile(samples, 95)), 1),
            "max": round(samples[-1], 1),
        }
