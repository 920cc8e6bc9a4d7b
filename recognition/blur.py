"""Blurring bystanders: an alert's evidence frame shows the matched face and no one else's."""

from collections.abc import Iterable, Sequence

import cv2
import numpy as np
from numpy.typing import NDArray


def blur_faces(image: NDArray[np.uint8], boxes: Iterable[tuple[int, int, int, int]]) -> NDArray[np.uint8]:
    """A copy of `image` with each box (x, y, w, h), grown by a quarter, pixelated beyond recognition.

    Pixelation to 6 blocks across, rather than a Gaussian blur, because a mild blur can
    still be matched by a face recogniser; six blocks cannot.
    """
    out = image.copy()
    height, width = image.shape[:2]
    for x, y, w, h in boxes:
        pad_x, pad_y = w // 4, h // 4
        x0, y0 = max(x - pad_x, 0), max(y - pad_y, 0)
        x1, y1 = min(x + w + pad_x, width), min(y + h + pad_y, height)
        if x1 <= x0 or y1 <= y0:
            continue
        region = out[y0:y1, x0:x1]
        small = cv2.resize(region, (6, max(1, round(6 * (y1 - y0) / (x1 - x0)))), interpolation=cv2.INTER_AREA)
        out[y0:y1, x0:x1] = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
    return out


def overlap(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x, y, w, h) boxes: whether two detections are the same face."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    union = aw * ah + bw * bh - w * h
    return w * h / union if union > 0 else 0.0
