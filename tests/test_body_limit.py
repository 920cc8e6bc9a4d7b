"""Request bodies are refused with 413 before they are held (bankwatch/bodylimit.py).

The daphne tests run the real server in a subprocess: that is where a 2 GiB POST used to be held
whole in memory."""

import asyncio
import concurrent.futures
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from bankwatch.bodylimit import BodyLimitMiddleware


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def daphne_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    data = tmp_path_factory.mktemp("bodylimit")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {
        "BANKWATCH_DATA_DIR": str(data),
        "BANKWATCH_MODELS_DIR": str(settings.MODELS_DIR),
        "BANKWATCH_EMBEDDED_BEAT": "0",
        "BANKWATCH_MAX_UPLOAD_BYTES": str(1024 * 1024),
    }
    port = _free_port()
    log = (data / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "bankwatch.asgi:application"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError((data / "server.log").read_text()[-3000:]) from None
            time.sleep(0.2)
    yield "127.0.0.1", port
    process.terminate()
    process.wait(timeout=10)


def _status(sock: socket.socket) -> int:
    sock.settimeout(10)
    head = sock.recv(4096)
    return int(head.split(b" ", 2)[1])


def test_daphne_answers_413_to_a_declared_2_gib_body_before_any_of_it_is_sent(daphne_url):
    with socket.create_connection(daphne_url) as sock:
        sock.sendall(b"POST /anything HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2147483648\r\n\r\n")
        assert _status(sock) == 413


def test_daphne_cuts_a_chunked_body_off_once_it_passes_the_limit(daphne_url):
    chunk = b"x" * 65536
    sent = 0
    with socket.create_connection(daphne_url) as sock:
        sock.sendall(b"POST /api/v1/frames HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            while sent < 64 * 1024 * 1024:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < 64 * 1024 * 1024, "the server read 64 MiB of a body limited to 2 MiB"
        # The 413 goes out first, but a reset that follows may discard it on our side.
        with contextlib.suppress(ConnectionResetError):
            assert _status(sock) == 413


def test_daphne_still_takes_bodies_within_the_limit(daphne_url):
    body = b"username=x&password=y"
    with socket.create_connection(daphne_url) as sock:
        sock.sendall(
            b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        assert _status(sock) == 403  # Django's CSRF check read it: no 413


async def _call(app, headers, chunks):
    sent: list[dict] = []
    read = 0

    async def receive():
        nonlocal read
        if read >= len(chunks):
            raise AssertionError("read past the last chunk")
        read += 1
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/frames", "headers": headers}
    await app(scope, receive, send)
    return sent, read


def _run(coroutine):
    """Run on a loop of its own thread: a session's Playwright loop may be running on this one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_the_asgi_guard_refuses_a_declared_oversized_body_without_reading_it(settings):
    settings.MAX_REQUEST_BYTES = 1000

    async def app(scope, receive, send):
        raise AssertionError("the application ran")

    sent, read = _run(_call(BodyLimitMiddleware(app), [(b"content-length", b"5000")], [b"x" * 5000]))
    assert sent[0]["status"] == 413 and read == 0


def test_the_asgi_guard_counts_streamed_bytes_and_refuses_past_the_limit(settings):
    settings.MAX_REQUEST_BYTES = 1000

    async def app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        raise AssertionError("the whole body reached the application")

    sent, read = _run(_call(BodyLimitMiddleware(app), [], [b"x" * 600] * 10))
    assert sent[0]["status"] == 413 and read == 2


def test_the_served_application_has_the_guard():
    from bankwatch import asgi

    assert isinstance(asgi.router.application_mapping["http"], BodyLimitMiddleware)
    assert Path(asgi.__file__).exists()
