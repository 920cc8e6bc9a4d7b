"""Frames in: the one place a frame is checked, stored and queued for recognition.

`store_frame` is called by the frame API (`POST /api/v1/frames`, alerts/api.py, which
authenticates the camera by its token and request signature first), `replay_video` and
the stream supervisor (`run_cameras`, cameras/supervisor.py) alike.
"""

import logging
from datetime import datetime

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from alerts.models import Frame
from bankwatch.jobs import enqueue
from cameras.health import observe_frame, thumbnail
from cameras.models import Camera
from recognition.images import decode_image, encode_jpeg

logger = logging.getLogger(__name__)


class QueueUnavailableError(Exception):
    """The job queue cannot take the frame; nothing of it was kept (the frame API answers 503)."""

    message = "the job queue is unreachable; send the frame again shortly"


def store_frame(camera: Camera, data: bytes, captured_at: datetime | None = None, observed: bool = False) -> Frame:
    """Check the image, store it and queue its recognition job; raises InvalidImageError (with an HTTP status).

    The check decodes a JPEG at 1/8 scale, which is enough to catch wrong types, bombs
    and truncated files at a fraction of a full decode; the job decodes it once, properly.
    That small image is also what the camera's health is judged on (cameras/health.py),
    unless the caller (a stream supervisor, which sees every frame) did it already.
    """
    small = decode_image(data, max_side=64, max_pixels=settings.MAX_FRAME_PIXELS)
    if not observed:
        observe_frame(camera, thumbnail(small))
    now = timezone.now()
    extension = "png" if data[:4] == b"\x89PNG" else "jpg"
    frame = Frame(camera=camera, captured_at=captured_at or now)
    frame.image.save(f"c{camera.pk}.{extension}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            frame.save()
            Camera.objects.filter(pk=camera.pk).update(last_seen_at=now)
    except Exception:
        frame.image.delete(save=False)
        raise
    try:
        enqueue("alerts.process_frame", frame.pk)  # after the caller's transaction, if there is one
    except Exception as exc:
        # The broker is unreachable: keep nothing half-written; the camera sends the frame again later.
        logger.warning("frame not queued, job queue unreachable: %s", exc.__class__.__name__)
        frame.delete()
        frame.image.delete(save=False)
        raise QueueUnavailableError(QueueUnavailableError.message) from None
    return frame


def store_pixels(camera: Camera, bgr: np.ndarray, captured_at: datetime | None = None, observed: bool = False) -> Frame:
    """A frame read from a stream or video (replay_video, run_cameras): JPEG-encoded, then as any upload."""
    return store_frame(camera, encode_jpeg(bgr, quality=90), captured_at, observed)
