"""The one harness for measuring and testing BankWatch as it runs: scratch databases, Celery
worker processes, waiting, posting frames and listening to the live feed.

Shared by the benchmarks (benchmarks/pipeline.py, latency.py, world.py, stack.py) and the
integration tests (tests/integration/conftest.py), so that a worker is started, a scratch
database is made and a condition is waited for in one way everywhere.

- `scratch_database()`: a throw-away database (a test database next to the configured one)
  and media folder; nothing of the real data is touched. `scratch_environment()` adds the
  embedded mode's settings for a benchmark run inside this process.
- `CeleryWorker`: one `celery -A bankwatch worker` process on the database this process uses,
  with its log, optional core pinning and extra environment.
- `wait_for(predicate)`: poll until it returns something true.
- `post_frame` and `EventListener`: a camera's POST, and a dashboard's socket, for latency figures.
"""

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Queue
from typing import IO, Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 60.0, interval: float = 0.2) -> T | None:
    """The first true value `predicate` returns within `timeout` seconds, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def stop_process(process: "subprocess.Popen[Any]", sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    """Send `sig` and wait; a process that outlives the wait is killed."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a worker process that shares this process's database (the scratch or
    test one), Redis and media folder."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "BANKWATCH_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **extra,
    }


def celery_worker_command(
    pool: str = "solo", concurrency: int | None = None, hostname: str | None = None, loglevel: str = "INFO"
) -> list[str]:
    command = [sys.executable, "-m", "celery", "-A", "bankwatch", "worker", f"--pool={pool}", f"--loglevel={loglevel}"]
    if concurrency is not None:
        command.append(f"--concurrency={concurrency}")
    if hostname is not None:
        command.append(f"--hostname={hostname}")
    return [*command, "--without-gossip", "--without-mingle", "--without-heartbeat"]


class CeleryWorker:
    """One Celery worker process: `start()`, `kill(signal)`, `output()` (its log so far)."""

    def __init__(
        self,
        log: Path | None,
        env: dict[str, str] | None = None,
        cores: set[int] | None = None,
        **command: Any,
    ) -> None:
        self.log = log
        self.env = env
        self.cores = cores
        self.command = celery_worker_command(**command)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "CeleryWorker":
        output: IO[bytes] | int = self.log.open("ab") if self.log else subprocess.DEVNULL
        cores = self.cores
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env if self.env is not None else worker_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None,  # preexec_fn: no threads yet
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "the worker was not started"
        return self.process.pid

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None:
            stop_process(self.process, sig)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""


@contextmanager
def scratch_database(prefix: str = "bankwatch-bench-") -> Iterator[Path]:
    """A throw-away database (a test database beside the configured one; a file for SQLite) and a
    media folder under the yielded temporary folder; both are gone afterwards."""
    from django.db import connection
    from django.test.utils import override_settings

    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if connection.vendor == "sqlite":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(folder / "bench.sqlite3")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        with override_settings(MEDIA_ROOT=folder / "media", SECURE_SSL_REDIRECT=False):
            yield folder
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def scratch_environment() -> Iterator[None]:
    """A scratch database in the embedded mode (jobs on threads of this process, the in-memory channel
    layer), with agreement always needed and no cool-down, so every two frames make one alert."""
    from django.test.utils import override_settings

    from bankwatch import jobs

    with (
        override_settings(
            JOB_BACKEND="thread",
            CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
            ALERT_COOLDOWN_SECONDS=0,
            AGREEMENT_STRONG_MARGIN=2.0,
        ),
        scratch_database(),
    ):
        try:
            yield
        finally:
            jobs.wait_idle(60)


# The worker of a benchmark takes the same shortcuts off as scratch_environment.
BENCH_WORKER_ENV = {"BANKWATCH_AGREEMENT_STRONG_MARGIN": "2.0", "BANKWATCH_ALERT_COOLDOWN_SECONDS": "0"}


def post_frame(client: Any, token: str, jpeg: bytes) -> None:
    """POST one frame as a camera does (a django.test.Client); any answer but 202 raises."""
    from django.core.files.base import ContentFile

    upload = ContentFile(jpeg, name="frame.jpg")
    response = client.post("/api/v1/frames", {"image": upload}, HTTP_AUTHORIZATION=f"Camera {token}")
    if response.status_code != 202:
        raise RuntimeError(f"frame refused: {response.status_code} {response.content[:200]!r}")


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
        from bankwatch import events

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
        """perf_counter() when the next event of `kind` arrived; queue.Empty after `timeout`."""
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
