"""How many frames one camera may push: one camera cannot flood the recognition queue for all.

`admit(camera_id)` counts a frame in the camera's current window (BANKWATCH_CAMERA_RATE_WINDOW_SECONDS)
and returns None while the camera is within BANKWATCH_CAMERA_MAX_FRAMES_PER_SECOND × window, or the
seconds until its window ends (the frame API answers 429 with that as Retry-After). The counters
live in the cache: Redis, shared by every web process, in production. It does not depend on Frame
rows, so the frame path may change under it.
"""

import math
import time

from django.conf import settings
from django.core.cache import cache


def admit(camera_id: int, now: float | None = None) -> int | None:
    window = settings.CAMERA_RATE_WINDOW_SECONDS
    moment = time.time() if now is None else now
    slot = int(moment // window)
    key = f"camera-rate:{camera_id}:{slot}"
    cache.add(key, 0, timeout=2 * window)
    count = cache.incr(key)
    if count <= settings.CAMERA_MAX_FRAMES_PER_SECOND * window:
        return None
    return max(1, math.ceil((slot + 1) * window - moment))
