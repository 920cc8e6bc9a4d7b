"""Motion gating: a frame in which nothing moved since the last one analysed from its camera skips
recognition altogether (no job, no detection).

Judged on the small grey thumbnail ingestion already makes for camera health (the 1/8-scale
decode, 80x45 for a 640x360 frame), against the thumbnail of the last frame of that camera that
was analysed, not the previous frame, so that a slow change adds up until it counts:

1. No analysed frame yet, a different size, or the last analysis older than
   BANKWATCH_STILL_RECHECK_SECONDS: analyse (a person standing still is seen again that often).
2. Otherwise count the pixels whose grey level moved by more than PIXEL_DELTA (far above JPEG
   and sensor noise once averaged by the 1/8 decode); at least BANKWATCH_MOTION_MIN_FRACTION of
   the thumbnail: analyse. A person walking in changes hundreds of them (a distant one, some 6x18
   of its 3,600 pixels, is 3 %; the default is 0.5 %).
3. Else skip: the frame still counted for camera health, which saw it first.

The last analysed thumbnail lives in the cache (Redis in production, shared by every web process).
"""

import time

import numpy as np
from django.conf import settings
from django.core.cache import cache
from numpy.typing import NDArray

PIXEL_DELTA = 16


def _key(camera_id: int) -> str:
    return f"bankwatch:motion:{camera_id}"


def moved(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """The fraction of pixels whose grey level differs by more than PIXEL_DELTA."""
    difference = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return float(np.count_nonzero(difference > PIXEL_DELTA)) / difference.size


def _now() -> float:
    return time.time()


def should_analyse(camera_id: int, gray: NDArray[np.uint8]) -> bool:
    """True when this frame goes to recognition; then it becomes the camera's reference."""
    if not settings.MOTION_GATING:
        return True
    now = _now()
    last = cache.get(_key(camera_id))
    if last is not None:
        shape, pixels, analysed_at = last
        if shape == gray.shape and now - analysed_at < settings.STILL_RECHECK_SECONDS:
            previous = np.frombuffer(pixels, dtype=np.uint8).reshape(shape)
            if moved(previous, gray) < settings.MOTION_MIN_FRACTION:
                return False
    cache.set(_key(camera_id), (gray.shape, gray.tobytes(), now), timeout=3600)
    return True
