"""Integration tests: the real PostgreSQL and Redis of this machine and a real Celery worker.

`make test-integration` runs them with DATABASE_URL and REDIS_URL set. Where a service is
absent every test here is skipped, and the reason names the service. Worker processes and
waiting come from benchmarks/harness.py, which the benchmarks use too.
"""

import signal
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from django.conf import settings

from benchmarks.harness import CeleryWorker


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


@pytest.fixture
def celery_worker(transactional_db, tmp_path) -> Iterator[CeleryWorker]:
    from bankwatch.celery import app

    app.control.purge()
    worker = CeleryWorker(tmp_path / "worker.log").start()
    yield worker
    worker.kill(signal.SIGTERM)
