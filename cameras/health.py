"""Camera health: online, offline, obstructed, frozen, moved — for pushed and pulled cameras alike.

Every frame a camera delivers is looked at through a thumbnail that already exists or costs
almost nothing (the 1/8-scale decode `store_frame` makes to check an upload, or a resize of
a decoded stream frame), never through the recognition job:

- obstructed: the view is black, uniform or covered (its grey levels hardly vary) for
  CAMERA_OBSTRUCTED_SECONDS;
- frozen: consecutive images are the same, pixel for pixel within JPEG noise, for
  CAMERA_FROZEN_SECONDS (a live sensor's noise alone changes thousands of pixels a frame);
- moved: the coarse scene no longer correlates with the camera's reference view (taken from
  its first normal frames; `reset_reference_view` after a planned move) for CAMERA_MOVED_SECONDS;
- offline: no frame for CAMERA_OFFLINE_SECONDS (`sweep_offline`, run by every supervisor and
  the periodic job `cameras.check_health`).

The running state of each camera (previous thumbnail, since when each symptom lasts, frame
counts per second) lives in the cache, which is Redis in production, so frames of one camera
may reach any web process. `change_health` is the one function that changes a camera's
state: the row (conditional UPDATE, so two processes never report one change twice), the
audit entry and the live event `{"type": "camera.updated", "camera": {...}}` to its branch
and bank.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from numpy.typing import NDArray

from accounts.scope import bank_group, branch_group
from audit.log import record
from bankwatch.events import publish
from bankwatch.jobs import enqueue
from cameras.models import Camera

logger = logging.getLogger(__name__)

Health = Camera.Health
REFERENCE_SIZE = (32, 18)  # width, height: the coarse layout of the scene, not its details
RATE_BUCKET_SECONDS = 5
LAST_SEEN_WRITE_SECONDS = 2.0


def thumbnail(bgr: NDArray[np.uint8], width: int = 160) -> NDArray[np.uint8]:
    """A small grey image of a frame, at most `width` pixels wide (the 1/8-scale decode of a 720p JPEG is 160)."""
    height = max(1, round(bgr.shape[0] * width / bgr.shape[1]))
    small = bgr if bgr.shape[1] <= width else cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small, dtype=np.uint8)


@dataclass
class Observation:
    """What one thumbnail shows."""

    uniform: bool
    same_as_previous: bool
    correlation: float | None  # with the reference view; None when there is none yet or the view is uniform


@dataclass
class Running:
    """A camera's health state between frames (kept in the cache)."""

    status: str = ""
    previous: bytes = b""
    previous_shape: tuple[int, int] = (0, 0)
    uniform_since: float | None = None
    frozen_since: float | None = None
    moved_since: float | None = None
    last_seen_written: float = 0.0
    counts: dict[str, dict[int, int]] = field(default_factory=lambda: {"received": {}, "processed": {}})


def _key(camera_id: int) -> str:
    return f"camera-health:{camera_id}"


def _running(cached: object) -> Running:
    return cached if isinstance(cached, Running) else Running()


def _load(camera_id: int) -> Running:
    return _running(cache.get(_key(camera_id)))


def _save(camera_id: int, state: Running) -> None:
    cache.set(_key(camera_id), state, timeout=24 * 3600)


def _coarse(gray: NDArray[np.uint8]) -> NDArray[np.float32]:
    return np.asarray(cv2.resize(gray, REFERENCE_SIZE, interpolation=cv2.INTER_AREA), dtype=np.float32)


def correlation(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Zero-mean normalised cross-correlation: 1 for the same layout under any brightness or contrast."""
    a = a - a.mean()
    b = b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 1e-6 else 0.0


def observe_thumbnail(gray: NDArray[np.uint8], state: Running, reference: NDArray[np.float32] | None) -> Observation:
    uniform = float(gray.std()) < settings.CAMERA_UNIFORM_STD
    same = False
    if state.previous and state.previous_shape == gray.shape:
        previous = np.frombuffer(state.previous, dtype=np.uint8).reshape(gray.shape)
        changed = np.count_nonzero(cv2.absdiff(gray, previous) > settings.CAMERA_FROZEN_PIXEL_DELTA)
        same = bool(changed <= settings.CAMERA_FROZEN_CHANGED_FRACTION * gray.size)
    score = None if uniform or reference is None else correlation(_coarse(gray), reference)
    return Observation(uniform, same, score)


def _since(flag: bool, since: float | None, now: float) -> float | None:
    return (since or now) if flag else None


def _rate_add(state: Running, kind: str, now: float) -> None:
    bucket = int(now // RATE_BUCKET_SECONDS)
    counts = state.counts.setdefault(kind, {})
    counts[bucket] = counts.get(bucket, 0) + 1
    for old in [b for b in counts if b < bucket - 2]:
        del counts[old]


def rates(camera_id: int, now: float | None = None, state: Running | None = None) -> tuple[float, float]:
    """Frames per second received and processed over the last full RATE_BUCKET_SECONDS."""
    state = state or _load(camera_id)
    bucket = int((now or time.time()) // RATE_BUCKET_SECONDS) - 1
    return tuple(  # type: ignore[return-value]
        round(state.counts.get(kind, {}).get(bucket, 0) / RATE_BUCKET_SECONDS, 2) for kind in ("received", "processed")
    )


def observe_frame(camera: Camera, gray: NDArray[np.uint8]) -> str:
    """Account for one frame a camera delivered (stored or skipped); returns its health state afterwards."""
    now = time.time()
    state = _load(camera.pk)
    reference = _reference(camera)
    seen = observe_thumbnail(gray, state, reference)
    state.previous, state.previous_shape = gray.tobytes(), (int(gray.shape[0]), int(gray.shape[1]))
    state.uniform_since = _since(seen.uniform, state.uniform_since, now)
    state.frozen_since = _since(seen.same_as_previous and not seen.uniform, state.frozen_since, now)
    moved = seen.correlation is not None and seen.correlation < settings.CAMERA_MOVED_CORRELATION
    state.moved_since = _since(moved, state.moved_since, now)
    _rate_add(state, "received", now)
    if reference is None and not seen.uniform:
        _set_reference(camera, gray)
    if now - state.last_seen_written >= LAST_SEEN_WRITE_SECONDS:
        state.last_seen_written = now
        Camera.objects.filter(pk=camera.pk).update(last_seen_at=timezone.now())
    status = _status(state, now)
    detail = _detail(status, seen)
    changed = status != state.status
    state.status = status
    _save(camera.pk, state)
    if changed and change_health(camera.pk, status, detail):
        camera.health = status
    return status


def _status(state: Running, now: float) -> str:
    def lasted(since: float | None, seconds: float) -> bool:
        return since is not None and now - since >= seconds

    if lasted(state.uniform_since, settings.CAMERA_OBSTRUCTED_SECONDS):
        return Health.OBSTRUCTED
    if lasted(state.frozen_since, settings.CAMERA_FROZEN_SECONDS):
        return Health.FROZEN
    if lasted(state.moved_since, settings.CAMERA_MOVED_SECONDS):
        return Health.MOVED
    return Health.ONLINE


def _detail(status: str, seen: Observation) -> str:
    if status == Health.OBSTRUCTED:
        return f"the view is black, uniform or covered for {settings.CAMERA_OBSTRUCTED_SECONDS} s or more"
    if status == Health.FROZEN:
        return f"the image has not changed for {settings.CAMERA_FROZEN_SECONDS} s or more"
    if status == Health.MOVED:
        score = "" if seen.correlation is None else f" (correlation {seen.correlation:.2f})"
        return f"the scene no longer matches the reference view{score}"
    return ""


def count_processed(camera_id: int) -> None:
    state = _load(camera_id)
    _rate_add(state, "processed", time.time())
    _save(camera_id, state)


_references: dict[int, tuple[float, NDArray[np.float32] | None]] = {}
REFERENCE_CACHE_SECONDS = 10.0


def _reference(camera: Camera) -> NDArray[np.float32] | None:
    """The camera's reference view (coarse grey layout), re-read from the row every few seconds."""
    cached = _references.get(camera.pk)
    if cached is not None and time.monotonic() - cached[0] < REFERENCE_CACHE_SECONDS:
        return cached[1]
    raw = Camera.objects.filter(pk=camera.pk).values_list("reference_view", flat=True).first()
    view = None if not raw else np.frombuffer(bytes(raw), dtype=np.float32).reshape(REFERENCE_SIZE[::-1]).copy()
    _references[camera.pk] = (time.monotonic(), view)
    return view


def _set_reference(camera: Camera, gray: NDArray[np.uint8]) -> None:
    view = _coarse(gray)
    if Camera.objects.filter(pk=camera.pk, reference_view__isnull=True).update(reference_view=view.tobytes()):
        _references[camera.pk] = (time.monotonic(), view)


def reset_reference_view(camera: Camera, actor: Any = None) -> None:
    """Forget the reference view (after a planned move): the next normal frame becomes the new one."""
    with transaction.atomic():
        Camera.objects.filter(pk=camera.pk).update(reference_view=None)
        record("camera.reference_reset", camera, actor=actor)
    _references.pop(camera.pk, None)
    state = _load(camera.pk)
    state.moved_since = None
    _save(camera.pk, state)


def serialize_cameras(cameras: Iterable[Camera]) -> list[dict[str, Any]]:
    """serialize_camera for a list: every camera's running state read in one round trip to the cache."""
    cameras = list(cameras)
    found = cache.get_many([_key(camera.pk) for camera in cameras])
    return [serialize_camera(camera, _running(found.get(_key(camera.pk)))) for camera in cameras]


def serialize_camera(camera: Camera, state: Running | None = None) -> dict[str, Any]:
    """A camera's health as camera_status, the API and the live event give it: never a credential."""
    received, processed = rates(camera.pk, state=state)
    return {
        "id": camera.pk,
        "camera_id": camera.pk,
        "name": camera.name,
        "bank": camera.branch.bank.name,
        "branch": camera.branch.name,
        "branch_id": camera.branch_id,
        "role": camera.role,
        "source": camera.source,
        "enabled": camera.is_active,
        "status": camera.health,
        "tampered": camera.health in Camera.TAMPER_STATES and camera.health_since is not None,
        "since": camera.health_since.isoformat() if camera.health_since else None,
        "last_seen_at": camera.last_seen_at.isoformat() if camera.last_seen_at else None,
        "fps_received": received,
        "fps_processed": processed,
        "last_error": camera.last_error,
    }


def change_health(camera_id: int, status: str, detail: str = "") -> bool:
    """Move a camera to a health state: the row, the audit entry and the live event, once; False when it already was."""
    now = timezone.now()
    with transaction.atomic():
        previous = Camera.objects.filter(pk=camera_id).exclude(health=status).values_list("health", flat=True).first()
        fields: dict[str, Any] = {"health": status, "health_since": now}
        if detail:
            fields["last_error"] = detail[:300]
        if previous is None or not Camera.objects.filter(pk=camera_id, health=previous).update(**fields):
            return False
        camera = Camera.objects.select_related("branch__bank").get(pk=camera_id)
        record(
            "camera.health_changed", camera, actor_label="bankwatch", status=status, previous=previous, detail=detail
        )
        payload = serialize_camera(camera)
        groups = [branch_group(camera.branch_id), bank_group(camera.branch.bank_id)]
        transaction.on_commit(lambda: publish(groups, {"type": "camera.updated", "camera": payload}))
        enqueue("integrations.announce_camera", payload)  # webhooks and MQTT, after commit
    logger.info("camera %s: %s -> %s", camera_id, previous, status)
    return True


def report_error(camera_id: int, text: str) -> None:
    """The last problem reading a camera, in words (already redacted by the caller)."""
    Camera.objects.filter(pk=camera_id).exclude(last_error=text[:300]).update(last_error=text[:300])


def sweep_offline(now: Any = None) -> list[int]:
    """Mark offline every enabled camera that sent nothing for CAMERA_OFFLINE_SECONDS; returns their ids."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CAMERA_OFFLINE_SECONDS)
    silent = (
        Camera.objects.filter(is_active=True)
        .exclude(health=Health.OFFLINE)
        .filter(Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True))
        .values_list("pk", flat=True)
    )
    went = [
        pk for pk in silent if change_health(pk, Health.OFFLINE, f"no frame for {settings.CAMERA_OFFLINE_SECONDS} s")
    ]
    for pk in went:
        state = _load(pk)
        state.status, state.uniform_since, state.frozen_since, state.moved_since = Health.OFFLINE, None, None, None
        state.previous = b""
        _save(pk, state)
    return went


def status_line(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The fleet in four numbers (camera_status's last line, the API's summary)."""
    return {
        "cameras": len(rows),
        "online": sum(row["status"] == Health.ONLINE for row in rows),
        "offline": sum(row["status"] == Health.OFFLINE for row in rows),
        "tampered": sum(row["status"] in (Health.OBSTRUCTED, Health.FROZEN, Health.MOVED) for row in rows),
    }
