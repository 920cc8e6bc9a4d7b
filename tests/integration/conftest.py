"""Integration tests: the real PostgreSQL and Redis of this machine and a real Celery worker.

`make test-integration` runs them with DATABASE_URL and REDIS_URL set. Where a service is
absent every test here is skipped, and the reason names the service.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def missing_services() -> list[str]:
    missing = []
    if not settings.DATABASE_URL.startswith("postgres"):
        missing.append("DATABASE_URL is not a PostgreSQL URL")
    elif not _reachable(settings.DATABASE_URL, 5432):
        missing.append(f"PostgreSQL unreachable at {urlparse(settings.DATABASE_URL).netloc}")
    if not settings.REDIS_URL:
        missing.append("REDIS_URL is not set")
    elif not _reachable(settings.REDIS_URL, 6379):
        missing.append(f"Redis unreachable at {urlparse(settings.REDIS_URL).netloc}")
    return missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = missing_services()
    if not missing:
        return
    skip = pytest.mark.skip(reason="integration services absent: " + "; ".join(missing))
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


def worker_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "BANKWATCH_MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }


class WorkerProcess:
    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bankwatch",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=settings.BASE_DIR,
            env=worker_env(),
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def celery_worker(transactional_db, tmp_path) -> Iterator[WorkerProcess]:  # type: ignore[no-untyped-def]
    from bankwatch.celery import app

    app.control.purge()
    worker = WorkerProcess(tmp_path / "worker.log")
    worker.start()
    yield worker
    worker.kill(signal.SIGTERM)


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None
