"""Frames in: the one place a frame is checked and queued for recognition.

`store_frame` is called by the frame API (`POST /api/v1/frames`, alerts/api.py, which
authenticates the camera by its token and request signature first), `replay_video` and
the stream supervisor (`run_cameras`, cameras/supervisor.py) alike.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings
from django.utils import timezone

from alerts import frame_queue, motion
from bankwatch.jobs import enqueue
from cameras.health import observe_frame, thumbnail
from cameras.models import Camera
from entrance.display import has_paired_display
from recognition.images import decode_image, encode_jpeg

logger = logging.getLogger(__name__)


class QueueUnavailableError(Exception):
    """The job queue cannot take the frame; nothing of it was kept (the frame API answers 503)."""

    message = "the job queue is unreachable; send the frame again shortly"


class BacklogFullError(QueueUnavailableError):
    """The camera is further ahead of recognition than BANKWATCH_CAMERA_MAX_BACKLOG frames (503, Retry-After)."""

    message = "recognition is behind on this camera's frames; send again shortly"


@dataclass(frozen=True)
class QueuedFrame:
    """A frame accepted and queued: nothing of it is stored until its job finds something to keep."""

    pk: int
    camera_id: int
    captured_at: datetime
    gated: bool = False  # nothing moved since the camera's last analysed frame: no job (alerts/motion.py)


def store_frame(
    camera: Camera, data: bytes, captured_at: datetime | None = None, observed: bool = False
) -> QueuedFrame:
    """Check the image and queue its recognition job with its bytes; raises InvalidImageError (with an
    HTTP status), BacklogFullError or QueueUnavailableError.

    The check decodes a JPEG at 1/8 scale, which is enough to catch wrong types, bombs
    and truncated files at a fraction of a full decode; the job decodes it once, properly.
    That small image is also what the camera's health is judged on (cameras/health.py),
    unless the caller (a stream supervisor, which sees every frame) did it already.
    No row and no file: the bytes wait in the camera's queue (alerts/frame_queue.py, in Redis in
    production), served round-robin across cameras. A frame in which
    nothing moved since the camera's last analysed one is not queued at all (alerts/motion.py).
    """
    gray = thumbnail(decode_image(data, max_side=64, max_pixels=settings.MAX_FRAME_PIXELS))
    if not observed:
        observe_frame(camera, gray)
    # A camera with a paired entrance display is never gated: the display's live boxes and its
    # uncover prompt come from analysed frames, and it promises 5 frames/s.
    if not has_paired_display(camera.pk) and not motion.should_analyse(camera.pk, gray):
        return QueuedFrame(frame_queue.new_frame_id(), camera.pk, captured_at or timezone.now(), gated=True)
    if frame_queue.backlog(camera.pk) >= settings.CAMERA_MAX_BACKLOG:
        raise BacklogFullError(BacklogFullError.message)
    frame = QueuedFrame(frame_queue.new_frame_id(), camera.pk, captured_at or timezone.now())
    try:
        # The frame waits in its camera's queue; the job (after the caller's transaction, if there is
        # one) takes the fair next frame, which need not be this one (alerts/frame_queue.py).
        frame_queue.put(frame_queue.Job(frame.pk, camera.pk, frame.captured_at.isoformat(), data))
        enqueue("alerts.process_frame")
    except Exception as exc:  # noqa: BLE001 - whatever the broker client raises, the frame is not kept
        # The broker is unreachable: nothing is kept; the camera sends the frame again later.
        logger.warning("frame not queued, job queue unreachable: %s", exc.__class__.__name__)
        frame_queue.forget(camera.pk, frame.pk)
        raise QueueUnavailableError(QueueUnavailableError.message) from None
    return frame


def store_pixels(
    camera: Camera, bgr: np.ndarray, captured_at: datetime | None = None, observed: bool = False
) -> QueuedFrame:
    """A frame read from a stream or video (replay_video, run_cameras): JPEG-encoded, then as any upload."""
    return store_frame(camera, encode_jpeg(bgr, quality=90), captured_at, observed)
