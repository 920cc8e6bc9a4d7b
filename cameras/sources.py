"""Reading pulled cameras: an RTSP stream (PyAV, FFmpeg's libraries in-process, so no URL or password
ever reaches a process list), an HTTP MJPEG stream or an HTTP snapshot URL (requests, basic or
digest authentication). Each source yields samples at the camera's rate and raises SourceError,
whose message is safe to show (no user name, password or URL credentials), when it cannot go on.

A live RTSP stream is decoded frame by frame (H.264 P-frames depend on the frames before them),
but only the sampled frames are converted to pixels; MJPEG and snapshot JPEGs are passed on as
they came, without a decode.
"""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import requests
from numpy.typing import NDArray
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from cameras.credentials import StreamCredentials, redact, with_credentials

OPEN_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 5.0
MJPEG_MAX_FRAME_BYTES = 8 * 1024 * 1024


class SourceError(Exception):
    """The source cannot be read (now); the message is redacted and fit for an operator's eyes."""


@dataclass(frozen=True)
class StreamConfig:
    """What a reader needs, copied from the camera row when the reader starts (cameras/supervisor.py)."""

    camera_id: int
    source: str
    url: str
    credentials: StreamCredentials
    auth: str
    fps: float
    version: int
    agent: str = "BankWatch"  # the User-Agent of HTTP requests: which supervisor reads, in the camera's log

    def __repr__(self) -> str:
        return f"StreamConfig(camera={self.camera_id}, source={self.source}, url={self.url!r}, fps={self.fps})"


@dataclass
class Sample:
    """One sampled frame: decoded pixels (RTSP) or the JPEG as the camera sent it (MJPEG, snapshot)."""

    bgr: NDArray[np.uint8] | None = None
    jpeg: bytes | None = None


@dataclass
class Counters:
    decoded: int = 0  # frames read from the source (all of them for RTSP, sampled or not)
    sampled: int = 0


def _safe(exc: BaseException, config: StreamConfig) -> str:
    return redact(f"{exc.__class__.__name__}: {exc}", config.credentials.password, config.credentials.username)


def _auth(config: StreamConfig) -> AuthBase | None:
    if not config.credentials:
        return None
    user, password = config.credentials.username, config.credentials.password
    return HTTPDigestAuth(user, password) if config.auth == "digest" else HTTPBasicAuth(user, password)


def rtsp_samples(
    config: StreamConfig, stop: threading.Event, counters: Counters, fast_decode: bool = False
) -> Iterator[Sample]:
    """Decode an RTSP stream (or a video file: then its own timestamps pace the sampling) and yield frames at config.fps."""
    import av

    options = {"rtsp_transport": "tcp", "stimeout": "5000000", "timeout": "5000000"}
    url = with_credentials(config.url, config.credentials)
    try:
        container = av.open(url, options=options, timeout=(OPEN_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS))
    except Exception as exc:  # noqa: BLE001 - av.error.* (and OSError) carry the URL, with its password: redacted
        raise SourceError("cannot open the stream: " + _safe(exc, config)) from None
    try:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        stream.codec_context.thread_count = 1  # many streams per process: one decoding thread each
        if fast_decode:
            stream.codec_context.skip_frame = "NONREF"  # B-frames nobody refers to are not decoded at all
        live = config.url.lower().startswith("rtsp")
        interval = 1.0 / config.fps
        next_due = 0.0
        for frame in container.decode(stream):
            if stop.is_set():
                return
            counters.decoded += 1
            now = time.monotonic() if live else float(frame.time or 0.0)
            if now < next_due:
                continue
            next_due = max(next_due + interval, now) if next_due else now + interval
            counters.sampled += 1
            yield Sample(bgr=np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8))
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder error ends this reading; the supervisor retries
        raise SourceError("the stream broke off: " + _safe(exc, config)) from None
    finally:
        container.close()
    if live:
        raise SourceError("the stream ended")


def snapshot_samples(config: StreamConfig, stop: threading.Event, counters: Counters) -> Iterator[Sample]:
    """Poll a snapshot URL at config.fps (one request at a time; a slow camera lowers the rate)."""
    session = requests.Session()
    session.auth = _auth(config)
    session.headers["User-Agent"] = config.agent
    interval = 1.0 / config.fps
    while not stop.is_set():
        started = time.monotonic()
        try:
            response = session.get(config.url, timeout=(OPEN_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS))
        except requests.RequestException as exc:
            raise SourceError("snapshot request failed: " + _safe(exc, config)) from None
        if response.status_code != 200:
            raise SourceError(f"snapshot URL answered HTTP {response.status_code}" + _hint(response.status_code))
        counters.decoded += 1
        counters.sampled += 1
        yield Sample(jpeg=response.content)
        stop.wait(max(0.0, interval - (time.monotonic() - started)))


def _hint(status: int) -> str:
    return " (wrong user name or password, or the wrong authentication type)" if status in (401, 403) else ""


def mjpeg_samples(config: StreamConfig, stop: threading.Event, counters: Counters) -> Iterator[Sample]:
    """Read a multipart MJPEG stream, keeping only the newest JPEG, and yield it at config.fps."""
    try:
        response = requests.get(
            config.url,
            auth=_auth(config),
            stream=True,
            timeout=(OPEN_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            headers={"User-Agent": config.agent},
        )
    except requests.RequestException as exc:
        raise SourceError("cannot open the MJPEG stream: " + _safe(exc, config)) from None
    if response.status_code != 200:
        raise SourceError(f"MJPEG URL answered HTTP {response.status_code}" + _hint(response.status_code))
    interval = 1.0 / config.fps
    next_due = 0.0
    buffer = b""
    try:
        for chunk in response.iter_content(chunk_size=8 * 1024):
            if stop.is_set():
                return
            buffer += chunk
            latest = None
            while True:  # every complete JPEG in the buffer; the newest one wins
                start = buffer.find(b"\xff\xd8")
                end = buffer.find(b"\xff\xd9", start + 2) if start >= 0 else -1
                if start < 0 or end < 0:
                    break
                latest = buffer[start : end + 2]
                buffer = buffer[end + 2 :]
                counters.decoded += 1
            if len(buffer) > MJPEG_MAX_FRAME_BYTES:
                raise SourceError("the MJPEG stream sent a frame larger than 8 MiB or no JPEG at all")
            now = time.monotonic()
            if latest is not None and now >= next_due:
                # On a steady beat of `interval`, so that chunk boundaries do not lower the rate.
                next_due = next_due + interval if now - next_due < interval else now + interval
                counters.sampled += 1
                yield Sample(jpeg=latest)
    except requests.RequestException as exc:
        raise SourceError("the MJPEG stream broke off: " + _safe(exc, config)) from None
    finally:
        response.close()
    raise SourceError("the MJPEG stream ended")


def samples(config: StreamConfig, stop: threading.Event, counters: Counters, **options: Any) -> Iterator[Sample]:
    if config.source == "rtsp":
        return rtsp_samples(config, stop, counters, **options)
    if config.source == "snapshot":
        return snapshot_samples(config, stop, counters)
    if config.source == "http_mjpeg":
        return mjpeg_samples(config, stop, counters)
    raise SourceError(f"a {config.source} camera is not pulled")
