"""The stream supervisor: reads every enabled pulled camera, each by exactly one supervisor.

`python manage.py run_cameras` runs one (the embedded server runs one on a thread). Any number
may run, on any machines, against the same database:

- Leases. Each camera a supervisor reads has a StreamLease row naming it, which it renews every
  TICK_SECONDS for STREAM_LEASE_SECONDS. A lease is taken only when there is none or it expired,
  by a conditional UPDATE (or an INSERT that the primary key lets only one win), so one camera
  never has two readers. A reader whose lease was not renewed in time stops by itself before the
  lease can pass to another supervisor. When a supervisor dies its leases expire and the others
  take its cameras at their next tick: within STREAM_LEASE_SECONDS + TICK_SECONDS (15 + 2 s).
- Fair share. Supervisors announce themselves (StreamSupervisor); each takes at most its share
  of the cameras and gives back one a tick when it holds more, so a new supervisor gets work.
- Configuration. Each tick compares every camera's `config_version` (bumped by every change in
  the admin) and `is_active` with what its reader runs: a new, changed or disabled camera takes
  effect within a tick or two, without a restart.
- Reading. One thread per camera (cameras/sources.py) samples at the camera's rate, judges the
  camera's health on a thumbnail of every sample (cameras/health.py), and hands the sample to
  alerts.ingest.store_frame — the push API's own path. While recognition has STREAM_MAX_BACKLOG
  of its frames unprocessed, samples are dropped (counted), never queued. A source that fails
  is reopened after 1 s, doubling to 30 s; the last error, redacted, is on the camera.
"""

import logging
import math
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from cameras import health
from cameras.actions import camera_credentials
from cameras.models import Camera, StreamLease, StreamSupervisor
from cameras.sources import Counters, Sample, SourceError, StreamConfig, samples

logger = logging.getLogger(__name__)

TICK_SECONDS = 2.0
BACKLOG_CHECK_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0


def config_of(camera: Camera, agent: str = "BankWatch") -> StreamConfig:
    try:
        credentials = camera_credentials(camera)
    except ValueError:
        from cameras.credentials import StreamCredentials

        credentials = StreamCredentials()
    return StreamConfig(
        camera_id=camera.pk,
        source=camera.source,
        url=camera.stream_url,
        credentials=credentials,
        auth=camera.stream_auth or Camera.Auth.DIGEST,
        fps=camera.fps,
        version=camera.config_version,
        agent=agent,
    )


@dataclass
class ReaderStats:
    stored: int = 0
    skipped: int = 0
    errors: int = 0
    reconnects: int = 0
    counters: Counters = field(default_factory=Counters)


class CameraReader(threading.Thread):
    """Reads one camera while its lease holds; stops when told to or when the lease lapses."""

    def __init__(
        self, camera: Camera, lease_seconds: float, max_backlog: int, fast_decode: bool = False, holder: str = ""
    ) -> None:
        super().__init__(name=f"bankwatch-camera-{camera.pk}", daemon=True)
        self.camera = camera
        self.config = config_of(camera, f"BankWatch/{holder}" if holder else "BankWatch")
        self.max_backlog = max_backlog
        self.fast_decode = fast_decode
        self.stop_event = threading.Event()
        self.lease_seconds = lease_seconds
        self.lease_valid_until = time.monotonic() + lease_seconds
        self.stats = ReaderStats()
        self._backlog = 0
        self._backlog_checked = 0.0

    def renewed(self, at: float) -> None:
        # Stop a little before the lease does, so that a stalled holder never overlaps a new one.
        self.lease_valid_until = at + self.lease_seconds - TICK_SECONDS

    def stop(self) -> None:
        self.stop_event.set()

    def lease_holds(self) -> bool:
        return time.monotonic() < self.lease_valid_until

    def run(self) -> None:
        backoff = 1.0
        try:
            while not self.stop_event.is_set() and self.lease_holds():
                try:
                    for sample in samples(self.config, self.stop_event, self.stats.counters, **self._options()):
                        if self.stop_event.is_set() or not self.lease_holds():
                            return
                        self.take(sample)
                        backoff = 1.0
                except SourceError as exc:
                    self.stats.errors += 1
                    health.report_error(self.camera.pk, str(exc))
                    logger.warning("camera %s: %s; retrying in %.0f s", self.camera.pk, exc, backoff)
                if self.stop_event.wait(backoff):
                    return
                self.stats.reconnects += 1
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        except Exception:
            logger.exception("camera %s: reader failed", self.camera.pk)
        finally:
            close_old_connections()

    def _options(self) -> dict[str, Any]:
        return {"fast_decode": self.fast_decode} if self.config.source == Camera.Source.RTSP else {}

    def take(self, sample: Sample) -> None:
        from alerts.ingest import QueueUnavailableError, store_frame, store_pixels
        from recognition.images import InvalidImageError, decode_image

        try:
            small = (
                sample.bgr
                if sample.bgr is not None
                else decode_image(sample.jpeg or b"", max_side=64, max_pixels=settings.MAX_FRAME_PIXELS)
            )
        except InvalidImageError as exc:
            health.report_error(self.camera.pk, f"the camera sent an unreadable image: {exc}")
            return
        health.observe_frame(self.camera, health.thumbnail(small))
        if self.backlog() >= self.max_backlog:
            self.stats.skipped += 1  # recognition is behind: a fresh frame later beats a stale one now
            return
        try:
            if sample.bgr is not None:
                store_pixels(self.camera, sample.bgr, observed=True)
            else:
                store_frame(self.camera, sample.jpeg or b"", observed=True)
            self.stats.stored += 1
            self._backlog += 1
        except (InvalidImageError, QueueUnavailableError) as exc:
            self.stats.skipped += 1
            health.report_error(self.camera.pk, f"frame not stored: {exc}")

    def backlog(self) -> int:
        from alerts import frame_queue

        now = time.monotonic()
        if now - self._backlog_checked >= BACKLOG_CHECK_SECONDS:
            self._backlog_checked = now
            self._backlog = frame_queue.backlog(self.camera.pk)
        return self._backlog


def supervisor_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**6):06x}"


class Supervisor:
    """Takes, renews and gives back leases; starts, restarts and stops one reader per camera it holds."""

    def __init__(self, name: str = "", fast_decode: bool = False) -> None:
        self.name = name or supervisor_name()
        self.readers: dict[int, CameraReader] = {}
        self.lease_seconds = float(settings.STREAM_LEASE_SECONDS)
        self.max_backlog = settings.STREAM_MAX_BACKLOG
        self.fast_decode = fast_decode
        self.stopping = threading.Event()
        self.finished: dict[int, list[ReaderStats]] = {}  # readers stopped so far, for the summary

    # -- one tick ---------------------------------------------------------------------------------
    def tick(self) -> None:
        now = timezone.now()
        started = time.monotonic()
        until = now + timedelta(seconds=self.lease_seconds)
        StreamSupervisor.objects.update_or_create(
            name=self.name, defaults={"seen_at": now, "cameras": len(self.readers), "hostname": socket.gethostname()}
        )
        self._renew(now, until, started)
        wanted = {
            camera.pk: camera
            for camera in Camera.objects.select_related("branch__bank")
            .filter(is_active=True)
            .exclude(source=Camera.Source.PUSH)
        }
        for camera_id in list(self.readers):
            camera = wanted.get(camera_id)
            reader = self.readers[camera_id]
            if camera is None:
                self._drop(camera_id, release=True)  # disabled, removed or now pushing
            elif camera.config_version != reader.config.version or not reader.is_alive():
                self._start(camera, replace=True)
        self._acquire(wanted, now, until, started)
        self._rebalance(wanted, now)
        health.sweep_offline(now)

    def _renew(self, now: Any, until: Any, started: float) -> None:
        if not self.readers:
            return
        StreamLease.objects.filter(holder=self.name, camera_id__in=list(self.readers)).update(expires_at=until)
        held = set(StreamLease.objects.filter(holder=self.name, expires_at__gt=now).values_list("camera_id", flat=True))
        for camera_id in list(self.readers):
            if camera_id in held:
                self.readers[camera_id].renewed(started)
            else:
                logger.warning("camera %s: lease lost; stopping its reader", camera_id)
                self._drop(camera_id, release=False)

    def _share(self, wanted: dict[int, Camera], now: Any) -> int:
        alive = StreamSupervisor.objects.filter(seen_at__gt=now - timedelta(seconds=self.lease_seconds)).count()
        return math.ceil(len(wanted) / max(1, alive))

    def _acquire(self, wanted: dict[int, Camera], now: Any, until: Any, started: float) -> None:
        share = self._share(wanted, now)
        taken = set(
            StreamLease.objects.filter(camera_id__in=list(wanted), expires_at__gt=now).values_list(
                "camera_id", flat=True
            )
        )
        free = [camera_id for camera_id in wanted if camera_id not in taken and camera_id not in self.readers]
        random.shuffle(free)  # two supervisors starting together do not fight over the same cameras
        for camera_id in free:
            if len(self.readers) >= share:
                break
            if self._take_lease(camera_id, now, until):
                self._start(wanted[camera_id])
                self.readers[camera_id].renewed(started)

    def _take_lease(self, camera_id: int, now: Any, until: Any) -> bool:
        fields = {"holder": self.name, "expires_at": until, "acquired_at": now}
        if StreamLease.objects.filter(camera_id=camera_id, expires_at__lte=now).update(**fields):
            return True
        try:
            with transaction.atomic():
                StreamLease.objects.create(camera_id=camera_id, **fields)
            return True
        except IntegrityError:
            return False  # someone holds it

    def _rebalance(self, wanted: dict[int, Camera], now: Any) -> None:
        if len(self.readers) > self._share(wanted, now) and len(self.readers) > 1:
            camera_id = next(iter(self.readers))
            logger.info("camera %s: handed to another supervisor (more than a fair share here)", camera_id)
            self._drop(camera_id, release=True)

    def _start(self, camera: Camera, replace: bool = False) -> None:
        if replace and camera.pk in self.readers:
            old = self.readers.pop(camera.pk)
            old.stop()
            old.join(timeout=10)
        reader = CameraReader(camera, self.lease_seconds, self.max_backlog, self.fast_decode, self.name)
        if replace:
            reader.lease_valid_until = time.monotonic() + self.lease_seconds - TICK_SECONDS
        self.readers[camera.pk] = reader
        reader.start()
        logger.info("camera %s: reading (%s at %s frames/s)", camera.pk, camera.source, camera.fps)

    def _drop(self, camera_id: int, release: bool) -> None:
        reader = self.readers.pop(camera_id, None)
        if reader is not None:
            reader.stop()
            reader.join(timeout=10)
            self.finished.setdefault(camera_id, []).append(reader.stats)
        if release:
            StreamLease.objects.filter(camera_id=camera_id, holder=self.name).delete()

    # -- the loop -------------------------------------------------------------------------------
    def run(self, max_seconds: float = 0.0) -> None:
        deadline = time.monotonic() + max_seconds if max_seconds else math.inf
        try:
            while not self.stopping.is_set() and time.monotonic() < deadline:
                try:
                    self.tick()
                except Exception:
                    logger.exception("supervisor tick failed; retrying")
                    close_old_connections()
                self.stopping.wait(TICK_SECONDS)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        for camera_id in list(self.readers):
            try:
                self._drop(camera_id, release=True)
            except Exception:
                logger.exception("camera %s: lease not released", camera_id)
        StreamSupervisor.objects.filter(name=self.name).delete()
        close_old_connections()

    def summary(self) -> dict[str, dict[str, int]]:
        """Per camera this supervisor read: frames stored, skipped (recognition behind), decoded, errors."""
        every: dict[int, list[ReaderStats]] = {k: list(v) for k, v in self.finished.items()}
        for camera_id, reader in self.readers.items():
            every.setdefault(camera_id, []).append(reader.stats)
        return {
            str(camera_id): {
                "stored": sum(s.stored for s in stats),
                "skipped": sum(s.skipped for s in stats),
                "decoded": sum(s.counters.decoded for s in stats),
                "errors": sum(s.errors for s in stats),
            }
            for camera_id, stats in every.items()
        }


_embedded: Supervisor | None = None
_embedded_lock = threading.Lock()


def start_embedded_supervisor() -> bool:
    """In the embedded mode the server reads its pulled cameras itself, on a daemon thread; True when started now."""
    global _embedded
    if settings.JOB_BACKEND != "thread" or not settings.EMBEDDED_CAMERAS:
        return False
    with _embedded_lock:
        if _embedded is not None:
            return False
        _embedded = Supervisor()
    threading.Thread(target=_embedded.run, name="bankwatch-cameras", daemon=True).start()
    return True
