"""A private PostgreSQL cluster and Redis server for one benchmark run, set up and torn down by it.

The fleet benchmark measures the CPU and the disk writes of every process of the stack, so it
runs its own `initdb` cluster and its own `redis-server` on free ports: their processes are
ours alone, whatever else the machine's shared servers are doing. Debian's binaries
(postgresql-15, redis-server); PostgreSQL runs as the `postgres` user when we are root.
"""

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.pgbouncer import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@dataclass
class Services:
    postgres_url: str  # direct, for the sampler's own connection
    postgres_pid: int
    redis_url: str
    redis_pid: int
    folder: Path


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _wait_port(port: int, what: str, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start on port {port}") from None
            time.sleep(0.1)


def available() -> str | None:
    """None when both servers can be started here, otherwise what is missing."""
    if not (PG_BIN / "initdb").exists():
        return f"{PG_BIN}/initdb is absent (Debian's postgresql-15)"
    if not Path(REDIS_SERVER).exists():
        return "redis-server is absent"
    return None


@contextmanager
def private_services(max_connections: int = 100) -> Iterator[Services]:
    folder = Path(tempfile.mkdtemp(prefix="bankwatch-fleet-"))
    os.chmod(folder, 0o711)  # noqa: S103 - the postgres user must reach its data folder inside
    data = folder / "pg"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    pg_port, redis_port = free_port(), free_port()
    as_pg = _as_postgres()
    redis = None
    started_pg = False
    try:
        subprocess.run(
            [*as_pg, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        options = f"-p {pg_port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections={max_connections}"
        options += " -c timezone=UTC"  # what Django asks of each connection: no SET on every new one
        subprocess.run(
            [*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(data / "log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        started_pg = True
        postgres_pid = int((data / "postmaster.pid").read_text().split()[0])
        redis = subprocess.Popen(
            [REDIS_SERVER, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(redis_port, "redis-server")
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres", "bankwatch"],
            check=True,
            capture_output=True,
        )
        yield Services(
            postgres_url=f"postgres://postgres@127.0.0.1:{pg_port}/bankwatch",
            postgres_pid=postgres_pid,
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
            redis_pid=redis.pid,
            folder=folder,
        )
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        if started_pg:
            subprocess.run(
                [*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True
            )
        shutil.rmtree(folder, ignore_errors=True)
