"""PostgreSQL connections stay within PgBouncer's pool while many cameras push at once.

The production stack of README (daphne, a Celery worker with two pool processes) runs in
subprocesses with DATABASE_URL pointing at Debian's PgBouncer in transaction mode
(benchmarks/pgbouncer.py), started here on a free port in front of this machine's PostgreSQL.
Cameras push over HTTP from threads of this process, each on its own kept-alive connection,
while PostgreSQL's own view of its connections (pg_stat_activity) is sampled: it never holds
more than the pool, every frame is accepted (no 503 for want of a connection), and every
frame is processed through the same pool.
"""

import http.client
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.db import connection

from alerts.samples import compose
from benchmarks import pgbouncer
from benchmarks.harness import wait_for
from benchmarks.stack import production_stack, push_frame
from cameras.actions import create_camera
from recognition.images import encode_jpeg
from tests.factories import frames_queued

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

POOL_SIZE = 4
CAMERAS = 16
FRAMES_PER_CAMERA = 12
FRAMES_PER_SECOND = 3.0


@pytest.fixture
def pooled_url(transactional_db):
    if not pgbouncer.available():
        pytest.skip(f"{pgbouncer.PGBOUNCER} is absent: `make pgbouncer-deps` installs Debian's pgbouncer")
    db = settings.DATABASES["default"]
    direct = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    with pgbouncer.pgbouncer(direct, POOL_SIZE) as pooler:
        yield pooler.url


def _camera_loop(token: str, jpeg: bytes, port: int, statuses: list[int]) -> None:
    link = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for _ in range(FRAMES_PER_CAMERA):
            started = time.monotonic()
            status, _ = push_frame(link, token, jpeg)
            statuses.append(status)
            time.sleep(max(0.0, 1 / FRAMES_PER_SECOND - (time.monotonic() - started)))
    finally:
        link.close()


def test_many_cameras_at_once_stay_within_the_pool_and_no_frame_is_refused(pooled_url, tmp_path: Path):
    tokens = [create_camera("Saigon Bank", f"Branch {i // 3}", f"Camera {i}")[1] for i in range(CAMERAS)]
    rng = np.random.default_rng(7)
    scene = compose([])
    scene = np.clip(scene.astype(np.int16) + rng.integers(-6, 7, scene.shape), 0, 255).astype(np.uint8)
    jpeg = encode_jpeg(scene)
    env = {
        "DATABASE_URL": pooled_url,
        "BANKWATCH_DATABASE_POOLER": "pgbouncer",
        "REDIS_URL": settings.REDIS_URL,
        "BANKWATCH_DATA_DIR": str(tmp_path / "data"),
        "BANKWATCH_MODELS_DIR": str(settings.MODELS_DIR),  # the provisioned weights, not the empty data folder's
        "BANKWATCH_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "BANKWATCH_HTTPS": "0",
        "BANKWATCH_MOTION_GATING": "0",  # the same picture every time: every frame still goes to the worker
    }
    from bankwatch.celery import app

    app.control.purge()
    with production_stack(env, tmp_path / "logs", worker_processes=1, concurrency=2) as stack:
        statuses: list[int] = []
        peak = 0
        threads = [threading.Thread(target=_camera_loop, args=(token, jpeg, stack.port, statuses)) for token in tokens]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            peak = max(peak, pgbouncer.postgres_connections(connection.settings_dict["NAME"]))
            time.sleep(0.05)
        for thread in threads:
            thread.join()
        drained = wait_for(
            lambda: not frames_queued(),
            timeout=120,
        )
        peak = max(peak, pgbouncer.postgres_connections(connection.settings_dict["NAME"]))
        log = stack.log_tail()

    assert len(statuses) == CAMERAS * FRAMES_PER_CAMERA
    assert set(statuses) == {202}, f"{sorted(set(statuses))}\n{log}"
    assert 0 < peak <= POOL_SIZE, f"PostgreSQL held {peak} connections for a pool of {POOL_SIZE}"
    assert drained, f"{frames_queued()} frames left unprocessed\n{log}"
