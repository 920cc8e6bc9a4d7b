"""POST-to-alert-event latency in the production mode: PostgreSQL, Redis, a Celery worker process.

The same measurement as benchmarks/pipeline.py (embedded mode), with the production
wiring: the frame is POSTed to /api/v1/frames (Django's test client in this process
stands in for daphne), the job travels through Redis to a separate Celery worker pinned
to its own core, the alert event comes back through the Redis channel layer to a
subscribed client. A throw-away PostgreSQL database and media folder (benchmarks.harness);
the Redis database given is purged first.
"""

from pathlib import Path
from typing import Any

from benchmarks import cpu
from benchmarks.harness import (
    BENCH_WORKER_ENV,
    CeleryWorker,
    EventListener,
    post_frame,
    scratch_database,
    wait_for,
    worker_env,
)
from benchmarks.pipeline import LISTED_ENROLL, LISTED_FRAMES, summary


def _wait(predicate: Any, timeout: float, what: str) -> Any:
    value = wait_for(predicate, timeout, interval=0.02)
    if not value:
        raise RuntimeError(f"timed out waiting for {what}")
    return value


def production_latency(dataset: str, pairs: int, worker_core: int) -> dict[str, Any]:
    import time

    from django.conf import settings
    from django.test import Client

    from accounts.scope import bank_group
    from alerts import frame_queue
    from alerts.models import PendingMatch
    from alerts.samples import compose, load
    from bankwatch.celery import app
    from cameras.actions import create_camera
    from enrollment.actions import add_photo, create_subject, create_watchlist
    from enrollment.models import ReferencePhoto
    from recognition.images import encode_jpeg

    if not (settings.DATABASE_URL.startswith("postgres") and settings.REDIS_URL):
        return {"skipped": "needs DATABASE_URL (PostgreSQL) and REDIS_URL"}
    folder = Path(dataset)
    with scratch_database():
        app.control.purge()
        worker = CeleryWorker(None, worker_env(**cpu.ONE_THREAD, **BENCH_WORKER_ENV), {worker_core}, loglevel="WARNING")
        worker.start()
        try:
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
            samples = []
            try:
                for _ in range(pairs + 1):
                    pending = PendingMatch.objects.count()
                    post_frame(client, token, first)  # waits in PendingMatch for agreement
                    _wait(lambda n=pending: PendingMatch.objects.count() > n, 60, "the first frame")
                    _wait(lambda: not frame_queue.backlog(camera.pk), 60, "the first frame's job to end")
                    started = time.perf_counter()
                    post_frame(client, token, second)
                    samples.append(1000 * (listener.wait_for("alert.created", timeout=30) - started))
                    _wait(lambda: not frame_queue.backlog(camera.pk), 60, "the second frame's job to end")
            finally:
                listener.close()
            memory = {f"worker_{key}": value for key, value in cpu.memory_mb(worker.pid).items()}
        finally:
            worker.kill()
    # The first pair warms the worker's sessions up.
    return {**memory, **summary(samples[1:]), "worker": "celery --pool=solo, one process pinned to one core"}
