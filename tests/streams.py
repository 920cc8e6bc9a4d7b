"""Real camera streams for tests, made at test time from the shared photos.

- `make_clip`: an H.264 clip (Debian's ffmpeg, libx264) of photos shown one after another.
- `RtspCamera`: an RTSP server on a free port. Debian's ffmpeg cannot itself listen as an RTSP
  server for output (its `-rtsp_flags listen` works for input only), so ffmpeg streams the clip in
  real time (`-re -stream_loop -1`) as RTP to a local UDP port and this small server answers
  OPTIONS/DESCRIBE/SETUP/PLAY/TEARDOWN with ffmpeg's own SDP and relays the RTP packets over the
  RTSP connection (interleaved TCP, RFC 2326 §10.12), with Basic authentication. `stop()` ends
  the stream as a camera that loses power does; `start()` brings it back on the same port.
- `SnapshotCamera`: an HTTP snapshot URL behind digest authentication (RFC 7616, qop=auth) whose
  picture a test can change: a live scene (fresh sensor noise on every request), black, frozen
  (the very same bytes again), or another scene.
"""

import base64
import contextlib
import hashlib
import http.server
import os
import secrets
import shutil
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def need_ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if not found:
        pytest.skip("Debian's ffmpeg is not installed (make test installs it)")
    return found


def make_clip(path: Path, photos: list[Path], size: tuple[int, int] = (640, 360), seconds_each: float = 2.0) -> Path:
    """An H.264 clip (25 frames/s, a keyframe every 10) showing each photo in turn, letterboxed to size."""
    ffmpeg = need_ffmpeg()
    width, height = size
    inputs: list[str] = []
    for photo in photos:
        inputs += ["-loop", "1", "-t", str(seconds_each), "-i", str(photo)]
    scale = f"scale={width}:{height}:force_original_aspect_ratio=decrease,pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25"
    chains = ";".join(f"[{i}:v]{scale}[v{i}]" for i in range(len(photos)))
    concat = "".join(f"[v{i}]" for i in range(len(photos))) + f"concat=n={len(photos)}:v=1:a=0,format=yuv420p[out]"
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-y", *inputs, "-filter_complex", f"{chains};{concat}", "-map", "[out]"]
        + ["-c:v", "libx264", "-preset", "veryfast", "-g", "10", "-bf", "0", str(path)],
        check=True,
        timeout=120,
    )
    return path


class RtspCamera:
    """An RTSP camera on 127.0.0.1:port serving `clip` in a loop, in real time, behind Basic authentication."""

    def __init__(self, clip: Path, username: str, password: str, work: Path) -> None:
        self.clip, self.username, self.password, self.work = clip, username, password, work
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/live"
        self.ffmpeg: subprocess.Popen[bytes] | None = None
        self.server: socketserver.ThreadingTCPServer | None = None
        self.udp: socket.socket | None = None
        self.clients: list[socket.socket] = []
        self.lock = threading.Lock()
        self.running = threading.Event()
        self.sdp = ""

    def start(self) -> None:
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.5)
        rtp_port = self.udp.getsockname()[1]
        sdp_file = self.work / f"rtsp-{self.port}.sdp"
        sdp_file.unlink(missing_ok=True)
        self.ffmpeg = subprocess.Popen(
            [need_ffmpeg(), "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(self.clip), "-c:v", "copy"]
            + ["-an", "-f", "rtp", "-sdp_file", str(sdp_file), f"rtp://127.0.0.1:{rtp_port}"],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not (sdp_file.exists() and sdp_file.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.sdp = self._rewrite(sdp_file.read_text())
        self.running.set()
        threading.Thread(target=self._relay, daemon=True).start()
        camera = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with contextlib.suppress(OSError):  # the client went away (a reader stopped, a supervisor died)
                    camera._serve(self.connection, self.rfile)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.running.clear()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        with self.lock:
            for client in self.clients:
                try:
                    client.shutdown(socket.SHUT_RDWR)
                    client.close()
                except OSError:
                    pass
            self.clients.clear()
        if self.ffmpeg is not None:
            self.ffmpeg.kill()
            self.ffmpeg.wait(timeout=10)
            self.ffmpeg = None
        if self.udp is not None:
            self.udp.close()
            self.udp = None

    @staticmethod
    def _rewrite(sdp: str) -> str:
        lines = []
        for line in sdp.splitlines():
            if line.startswith("m=video"):
                parts = line.split()
                lines.append(" ".join([parts[0], "0", *parts[2:]]))
                lines.append("a=control:track1")
            elif line.startswith("c="):
                lines.append("c=IN IP4 0.0.0.0")
            elif line.startswith("a=tool") or not line.strip():
                continue
            else:
                lines.append(line)
        return "\r\n".join(lines) + "\r\n"

    def _authorised(self, headers: dict[str, str]) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return headers.get("authorization", "") == f"Basic {expected}"

    def _serve(self, connection: socket.socket, rfile) -> None:
        while self.running.is_set():
            request = rfile.readline().decode("latin-1").strip()
            if not request:
                return
            headers: dict[str, str] = {}
            while line := rfile.readline().decode("latin-1").strip():
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            method = request.split()[0]
            cseq = headers.get("cseq", "0")
            extra = ""
            body = ""
            status = "200 OK"
            if method != "OPTIONS" and not self._authorised(headers):
                status, extra = "401 Unauthorized", 'WWW-Authenticate: Basic realm="camera"\r\n'
            elif method == "OPTIONS":
                extra = "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n"
            elif method == "DESCRIBE":
                body = self.sdp
                extra = f"Content-Base: {self.url}/\r\nContent-Type: application/sdp\r\n"
            elif method == "SETUP":
                extra = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 12345678;timeout=60\r\n"
            elif method == "PLAY":
                extra = "Session: 12345678\r\nRange: npt=0.000-\r\n"
            response = f"RTSP/1.0 {status}\r\nCSeq: {cseq}\r\n{extra}Content-Length: {len(body.encode())}\r\n\r\n{body}"
            connection.sendall(response.encode())
            if method == "PLAY" and status.startswith("200"):
                with self.lock:
                    self.clients.append(connection)
            if method == "TEARDOWN":
                return

    def _relay(self) -> None:
        udp = self.udp
        while self.running.is_set() and udp is not None:
            try:
                packet = udp.recv(65536)
            except (TimeoutError, OSError):
                continue
            frame = b"$\x00" + len(packet).to_bytes(2, "big") + packet
            with self.lock:
                for client in list(self.clients):
                    try:
                        client.sendall(frame)
                    except OSError:
                        self.clients.remove(client)


class SnapshotCamera:
    """GET /snapshot.jpg (or any path: one server can stand for several cameras) behind HTTP digest
    authentication; `show(...)` changes what it sends, `down` makes it fail."""

    def __init__(self, username: str, password: str, scene: np.ndarray) -> None:
        self.username, self.password = username, password
        self.realm = "IP Camera"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/snapshot.jpg"
        self.requests = 0
        self.unauthorised = 0
        self.served: list[tuple[float, str, str]] = []  # (when, path, User-Agent) of every picture sent
        self._picture: Callable[[], bytes] = self.live(scene)
        self.down = False  # True: answers 503, as a camera that lost its sensor
        camera = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                camera.requests += 1
                if not camera._check(self.headers.get("Authorization", ""), "GET", self.path):
                    camera.unauthorised += 1
                    self.send_response(401)
                    nonce = secrets.token_hex(16)
                    self.send_header("WWW-Authenticate", f'Digest realm="{camera.realm}", qop="auth", nonce="{nonce}"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path.startswith("/mjpeg"):
                    self._mjpeg()
                    return
                if camera.down:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                camera.served.append((time.monotonic(), self.path, self.headers.get("User-Agent", "")))
                body = camera._picture()
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _mjpeg(self) -> None:
                """A multipart/x-mixed-replace stream of pictures, 10 a second, as MJPEG cameras send."""
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                with contextlib.suppress(OSError):
                    while not camera.down:
                        body = camera._picture()
                        camera.served.append((time.monotonic(), self.path, self.headers.get("User-Agent", "")))
                        head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(body)}\r\n\r\n"
                        self.wfile.write(head.encode() + body + b"\r\n")
                        self.wfile.flush()
                        time.sleep(0.1)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _check(self, header: str, method: str, uri: str) -> bool:
        if not header.startswith("Digest "):
            return False
        fields = {}
        for part in header[len("Digest ") :].split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value.strip('"')
        md5 = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731, S324 - digest auth is MD5
        ha1 = md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = md5(f"{method}:{fields.get('uri', '')}")
        expected = md5(f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
        return (
            fields.get("username") == self.username and fields.get("uri") == uri and fields.get("response") == expected
        )

    # What the camera shows -------------------------------------------------------------------
    def show(self, picture: Callable[[], bytes]) -> None:
        self._picture = picture

    @staticmethod
    def live(scene: np.ndarray) -> Callable[[], bytes]:
        """The scene with fresh sensor noise in every picture, as a working camera sends it."""
        rng = np.random.default_rng(int.from_bytes(os.urandom(4), "big"))

        def picture() -> bytes:
            noise = rng.normal(0, 4, scene.shape)
            return _jpeg(np.clip(scene.astype(np.float32) + noise, 0, 255).astype(np.uint8))

        return picture

    @staticmethod
    def black(shape: tuple[int, ...]) -> Callable[[], bytes]:
        rng = np.random.default_rng(1)

        def picture() -> bytes:  # a covered lens: black, with a little noise
            return _jpeg(np.clip(rng.normal(4, 1.5, shape), 0, 255).astype(np.uint8))

        return picture

    @staticmethod
    def frozen(scene: np.ndarray) -> Callable[[], bytes]:
        still = _jpeg(scene)
        return lambda: still


def _jpeg(bgr: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return data.tobytes()
