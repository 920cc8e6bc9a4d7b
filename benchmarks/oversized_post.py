"""Resident memory of a daphne server before and after an anonymous 2 GiB POST.

    python -m benchmarks.oversized_post [--repo PATH] [--gib 2]

Starts `daphne bankwatch.asgi:application` from --repo (default: this checkout) on a free port
with a scratch data folder, streams the body from a generator (never built in memory), once
with a declared Content-Length and once chunked, and prints one JSON line with VmRSS (MB) of
the server before, right after, and 5 s after each, and the response status.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHUNK = b"\0" * (1024 * 1024)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(port: int, total: int, chunked: bool) -> tuple[str, int]:
    """Stream `total` bytes; returns the status line (or what stopped us) and the bytes sent."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % total
        sock.sendall(b"POST /api/v1/frames HTTP/1.1\r\nHost: 127.0.0.1\r\n" + framing + b"\r\n\r\n")
        try:
            while sent < total:
                sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK) if chunked else CHUNK)
                sent += len(CHUNK)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError as exc:
            return f"connection closed by the server ({type(exc).__name__})", sent
        sock.settimeout(120)
        try:
            return sock.recv(200).split(b"\r\n", 1)[0].decode(), sent
        except OSError as exc:
            return type(exc).__name__, sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--gib", type=float, default=2.0)
    args = parser.parse_args()
    total = int(args.gib * 1024**3)
    data = tempfile.mkdtemp(prefix="bw-oversized-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"BANKWATCH_DATA_DIR": data, "BANKWATCH_EMBEDDED_BEAT": "0", "TMPDIR": data}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "bankwatch.asgi:application"],
        cwd=args.repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(2)
        result: dict[str, object] = {"repo": args.repo, "body_bytes": total, "rss_mb_at_start": rss_mb(server.pid)}
        for mode in ("content_length", "chunked"):
            started = time.monotonic()
            status, sent = post(port, total, chunked=mode == "chunked")
            result[mode] = {
                "status": status,
                "bytes_sent_before_refusal": sent,
                "seconds": round(time.monotonic() - started, 1),
                "rss_mb_after": rss_mb(server.pid),
            }
            time.sleep(5)
            result[mode]["rss_mb_5s_later"] = rss_mb(server.pid)  # type: ignore[index]
        print(json.dumps(result))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
