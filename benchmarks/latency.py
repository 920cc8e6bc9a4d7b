"""POST-to-alert-event latency in the production mode: PostgreSQL, Redis, a Celery worker process.

The same measurement as alerts' bench_pipeline (embedded mode), with the production
wiring: the frame is POSTed to /api/v1/frames (Django's test client in this process
stands in for daphne), the job travels through Redis to a separate Celery worker pinned
to its own core, the alert event comes back through the Redis channel layer to a
subscribed client. A throw-away PostgreSQL database and media folder; the Redis
database given is purged first.
"""

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import cpu


def _wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def _more_than(rows: Any, count: int) -> bool:
    return bool(rows.count() > count)


def production_latency(dataset: str, pairs: int, worker_core: int) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from accounts.scope import bank_group
    from alerts.management.commands.bench_pipeline import LISTED_ENROLL, LISTED_FRAMES, EventListener, post_frame
    from alerts.models import Frame, PendingMatch
    from alerts.samples import compose, load
    from bankwatch.celery import app
    from cameras.actions import create_camera
    from enrollment.actions import add_photo, create_subject, create_watchlist
    from enrollment.models import ReferencePhoto
    from recognition.images import encode_jpeg

    if not (settings.DATABASE_URL.startswith("postgres") and settings.REDIS_URL):
        return {"skipped": "needs DATABASE_URL (PostgreSQL) and REDIS_URL"}
    folder = Path(dataset)
    media = Path(tempfile.mkdtemp(prefix="bankwatch-bench-media-"))
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    db = settings.DATABASES["default"]
    worker = None
    try:
        app.control.purge()
        worker_env = {
            **os.environ,
            **cpu.ONE_THREAD,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "BANKWATCH_MEDIA_ROOT": str(media),
            "BANKWATCH_AGREEMENT_STRONG_MARGIN": "2.0",  # always two frames, as in bench_pipeline
            "BANKWATCH_ALERT_COOLDOWN_SECONDS": "0",  # so every pair raises a new alert
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "bankwatch", "worker", "--pool=solo", "--loglevel=WARNING"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=settings.BASE_DIR,
            env=worker_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=lambda: os.sched_setaffinity(0, {worker_core}),  # noqa: PLW1509
        )
        with override_settings(MEDIA_ROOT=media, SECURE_SSL_REDIRECT=False):
            camera, token = create_camera("Bench Bank", "Bench Branch", "Bench camera")
            subject = create_subject(create_watchlist("Bench watchlist"), "Bench Subject")
            photo = add_photo(subject, (folder / LISTED_ENROLL).read_bytes(), LISTED_ENROLL)
            _wait(
                lambda: ReferencePhoto.objects.filter(pk=photo.pk, status="accepted").exists(),
                180,
                "the worker to enroll the watchlist",
            )
            listener = EventListener(bank_group(camera.branch.bank_id))
            client = Client()
            first, second = (encode_jpeg(compose([load(folder / name)])) for name in LISTED_FRAMES)

            def post(jpeg: bytes) -> None:
                post_frame(client, token, jpeg)

            samples = []
            try:
                for _ in range(pairs + 1):
                    pending = PendingMatch.objects.count()
                    post(first)  # waits in PendingMatch for agreement
                    _wait(partial(_more_than, PendingMatch.objects, pending), 60, "the first frame")
                    _wait(lambda: not Frame.objects.exists(), 60, "the first frame's row to go")
                    started = time.perf_counter()
                    post(second)
                    samples.append(1000 * (listener.wait_for("alert.created", timeout=30) - started))
                    _wait(lambda: not Frame.objects.exists(), 60, "the second frame's row to go")
            finally:
                listener.close()
        samples = sorted(samples[1:])  # the first pair warms the worker's sessions up
        memory = {f"worker_{key}": value for key, value in cpu.memory_mb(worker.pid).items()}
        return {
            **memory,
            "n": len(samples),
            "p50": round(statistics.median(samples), 1),
            "p95": round(float(np.percentile(samples, 95)), 1),
            "max": round(samples[-1], 1),
            "worker": "celery --pool=solo, one process pinned to one core",
        }
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(media, ignore_errors=True)
