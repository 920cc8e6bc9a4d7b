"""What the entrance display receives: one message per processed frame of its camera.

`display_message` is the only place a display message is built, and it is given only pixels,
face boxes and one yes/no (is any face covered): it cannot carry a name, a watchlist, a score
or whether anyone matched, because it never receives them. A robber in front of the display
must not learn that he was recognised, so a watchlisted face looks exactly like any other.

`publish_to_display` sends it to the camera's display group, which only sockets of a device
paired to that camera as a display may join (entrance/consumers.py). The frame travels in
the message (JPEG, base64) and is never written anywhere: not to the database, not to storage.
"""

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import cv2
import numpy as np
from django.core.cache import cache
from numpy.typing import NDArray

from bankwatch.events import publish
from cameras.models import Camera
from recognition.images import encode_jpeg

DISPLAY_MAX_SIDE = 640  # the display shows the frame full screen; this is plenty on a tablet
DISPLAY_JPEG_QUALITY = 70
PAIRED_CACHE_SECONDS = 5  # how long "has this camera a paired display?" is remembered per process
MESSAGE_KEYS = frozenset({"type", "frame", "width", "height", "boxes", "covered", "at"})


def display_group(camera_id: int) -> str:
    return f"display-{camera_id}"


def display_message(
    image: NDArray[np.uint8], boxes: Sequence[tuple[int, int, int, int]], covered: bool, captured_at: datetime
) -> dict[str, Any]:
    """The frame (scaled to DISPLAY_MAX_SIDE, JPEG, base64), each face's box as fractions of the
    frame (x, y, w, h), and whether a covered face is in view. Nothing else, by construction."""
    height, width = image.shape[:2]
    scale = min(1.0, DISPLAY_MAX_SIDE / max(height, width))
    if scale < 1:
        image = np.asarray(
            cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        )
    jpeg = encode_jpeg(image, quality=DISPLAY_JPEG_QUALITY)
    return {
        "type": "display.frame",
        "frame": base64.b64encode(jpeg).decode("ascii"),
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "boxes": [
            [round(x / width, 4), round(y / height, 4), round(w / width, 4), round(h / height, 4)]
            for x, y, w, h in boxes
        ],
        "covered": bool(covered),
        "at": round(captured_at.timestamp() * 1000),
    }


def has_paired_display(camera_id: int) -> bool:
    from cameras.models import DeviceKind, PairedDevice

    key = f"entrance:paired:{camera_id}"
    paired = cache.get(key)
    if paired is None:
        paired = PairedDevice.objects.filter(
            camera_id=camera_id, kind=DeviceKind.DISPLAY, revoked_at__isnull=True
        ).exists()
        cache.set(key, paired, PAIRED_CACHE_SECONDS)
    return bool(paired)


def publish_to_display(
    camera: Camera,
    image: NDArray[np.uint8],
    boxes: Sequence[tuple[int, int, int, int]],
    covered: bool,
    captured_at: datetime,
) -> bool:
    """Send this frame to the camera's paired display, if it has one; True when sent."""
    if not has_paired_display(camera.pk):
        return False
    message = display_message(image, boxes, covered, captured_at)
    publish([display_group(camera.pk)], {"type": "display.frame", "message": message})
    return True
