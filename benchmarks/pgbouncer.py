"""Debian's PgBouncer in front of a PostgreSQL server, in transaction mode: the pooler production uses.

`pgbouncer(database_url, pool_size)` starts one on a free port of this machine for the fleet
benchmark and the integration tests, yields a `PgBouncer` whose `.url` Django uses instead (same
database, user and password), and stops it. Only `pool_size` server connections per
database and user ever reach PostgreSQL; clients past that wait in PgBouncer's queue
instead of being refused. `postgres_connections(database)` counts what PostgreSQL
itself sees, which is what the tests and the benchmark hold against the pool size.

Transaction mode hands a server connection to a client for one transaction only, so Django
runs with BANKWATCH_DATABASE_POOLER=pgbouncer (no server-side cursors; see README, Production).
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from benchmarks.harness import stop_process

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


class PgBouncerMissingError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def available() -> bool:
    return Path(PGBOUNCER).exists()


def _config(url: str, port: int, pool_size: int, folder: Path) -> str:
    parsed = urlparse(url)
    user, password = unquote(parsed.username or "postgres"), unquote(parsed.password or "")
    server = f"host={parsed.hostname or '127.0.0.1'} port={parsed.port or 5432}"
    if password:
        server += f" password={password}"
    (folder / "users.txt").write_text(f'"{user}" "{password}"\n')
    return f"""[databases]
* = {server}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = {"plain" if password else "trust"}
auth_file = {folder / "users.txt"}
admin_users = {user}
pool_mode = transaction
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 5000
max_db_connections = {pool_size}
server_idle_timeout = 30
ignore_startup_parameters = extra_float_digits,options
logfile = {folder / "pgbouncer.log"}
pidfile = {folder / "pgbouncer.pid"}
"""


@dataclass
class PgBouncer:
    url: str  # database_url's database, user and password, through the pooler
    port: int
    pid: int
    pool_size: int

    def stats(self, database: str) -> dict[str, int]:
        """PgBouncer's SHOW STATS for `database`: total_query_count, total_xact_count, ..."""
        import psycopg2

        link = psycopg2.connect(self.url.rsplit("/", 1)[0] + "/pgbouncer")
        link.autocommit = True
        try:
            with link.cursor() as cursor:
                cursor.execute("SHOW STATS")
                names = [c.name for c in cursor.description]
                for row in cursor.fetchall():
                    found = dict(zip(names, row, strict=True))
                    if found["database"] == database:
                        return {k: int(v) for k, v in found.items() if k.startswith("total_")}
        finally:
            link.close()
        return {}


@contextmanager
def pgbouncer(database_url: str, pool_size: int) -> Iterator[PgBouncer]:
    """A PgBouncer in transaction mode in front of database_url's server (yields where it listens)."""
    if not available():
        raise PgBouncerMissingError(f"{PGBOUNCER} is absent: `make pgbouncer-deps` installs Debian's pgbouncer")
    folder = Path(tempfile.mkdtemp(prefix="bankwatch-pgbouncer-"))
    port = free_port()
    (folder / "pgbouncer.ini").write_text(_config(database_url, port, pool_size, folder))
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        command[1:1] = ["-u", "postgres"]
        shutil.chown(folder, "postgres")
        for path in folder.iterdir():
            shutil.chown(path, "postgres")
    # -q: it writes its log to logfile only (an unread pipe would fill and stop it).
    command.insert(1, "-q")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = folder / "pgbouncer.log"
                    detail = log.read_text()[-2000:] if log.exists() else ""
                    raise RuntimeError(f"pgbouncer did not start: {detail}") from None
                time.sleep(0.1)
        parsed = urlparse(database_url)
        userinfo = parsed.netloc.rpartition("@")[0] or "postgres"
        url = parsed._replace(netloc=f"{userinfo}@127.0.0.1:{port}").geturl()
        yield PgBouncer(url=url, port=port, pid=process.pid, pool_size=pool_size)
    finally:
        stop_process(process, timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def postgres_connections(database: str) -> int:
    """Server connections PostgreSQL holds for `database`, apart from the one asking (run on a direct connection)."""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' "
            "AND pid <> pg_backend_pid()",
            [database],
        )
        return int(cursor.fetchone()[0])
