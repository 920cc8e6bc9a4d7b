"""The production processes on this machine: daphne and Celery workers, as README's Production starts them.

`production_stack(env, ...)` starts one daphne on a free port and Celery worker processes with
the given environment (DATABASE_URL, REDIS_URL, ...), waits until /healthz answers 200, yields
a `Stack`, and stops every process it started. The fleet benchmark and the connection-pool
integration test drive it over HTTP as cameras do (`push_frame`).
"""

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import celery_worker_command, stop_process
from benchmarks.pgbouncer import free_port

ROOT = Path(__file__).resolve().parent.parent
BOUNDARY = "bankwatch-camera-boundary"


@dataclass
class Stack:
    url: str
    port: int
    web: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: Path = ROOT

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(
            f"== {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in sorted(self.logs.glob("*.log"))
        )


def multipart(jpeg: bytes) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="frame.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + jpeg + f"\r\n--{BOUNDARY}--\r\n".encode()


def push_frame(connection: http.client.HTTPConnection, token: str, jpeg: bytes) -> tuple[int, dict[str, Any]]:
    """POST one frame on a kept-alive connection, as a camera does: (status, JSON body)."""
    connection.request(
        "POST",
        "/api/v1/frames",
        body=multipart(jpeg),
        headers={"Authorization": f"Camera {token}", "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    response = connection.getresponse()
    body = response.read()
    try:
        return response.status, json.loads(body)
    except ValueError:
        return response.status, {"raw": body[:200].decode(errors="replace")}


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:  # noqa: S310 - our own local server
            return bool(answer.status == 200)
    except OSError:
        return False


def _affinity(cores: set[int] | None) -> Any:
    if cores is None:
        return None
    return lambda: os.sched_setaffinity(0, cores)


@contextmanager
def production_stack(
    env: dict[str, str],
    logs: Path,
    worker_processes: int = 1,
    concurrency: int = 2,
    web_cores: set[int] | None = None,
    worker_cores: set[int] | None = None,
    timeout: float = 120.0,
) -> Iterator[Stack]:
    """daphne + `worker_processes` Celery workers of `concurrency` pool processes each."""
    logs.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bankwatch.settings", "PYTHONDONTWRITEBYTECODE": "1", **env}
    port = free_port()
    python = sys.executable
    started: list[subprocess.Popen[bytes]] = []
    try:
        web = subprocess.Popen(
            [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "bankwatch.asgi:application"],
            cwd=ROOT,
            env=full_env,
            stdout=(logs / "web.log").open("ab"),
            stderr=subprocess.STDOUT,
            preexec_fn=_affinity(web_cores),  # preexec_fn: the parent starts no threads before this
        )
        started.append(web)
        stack = Stack(url=f"http://127.0.0.1:{port}", port=port, web=web, logs=logs)
        for number in range(worker_processes):
            worker = subprocess.Popen(
                celery_worker_command(
                    pool="prefork", concurrency=concurrency, hostname=f"bench{number}@%h", loglevel="WARNING"
                ),
                cwd=ROOT,
                env=full_env,
                stdout=(logs / f"worker{number}.log").open("ab"),
                stderr=subprocess.STDOUT,
                preexec_fn=_affinity(worker_cores),  # preexec_fn: no threads in the parent yet
            )
            started.append(worker)
            stack.workers.append(worker)
        deadline = time.monotonic() + timeout
        while not _healthy(stack.url):
            if time.monotonic() > deadline or any(p.poll() is not None for p in started):
                raise RuntimeError("the production stack did not start:\n" + stack.log_tail())
            time.sleep(0.3)
        yield stack
    finally:
        for process in reversed(started):
            stop_process(process, timeout=20)
