"""Camera-like frames made from still photos: the video test and bench_pipeline use them.

A bank camera gives 640x360 frames with people in them; our photo set has large portraits.
`compose` fits photos side by side onto such a frame, the way a person would fill part of it.
"""

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from recognition.images import decode_image


def load(path: Path) -> NDArray[np.uint8]:
    return decode_image(path.read_bytes(), max_side=1280)


def compose(photos: list[NDArray[np.uint8]], width: int = 640, height: int = 360) -> NDArray[np.uint8]:
    """Photos fitted side by side (each in an equal column, centred) on a grey frame; none: an empty scene."""
    frame = np.full((height, width, 3), 96, dtype=np.uint8)
    frame[:, :] = np.linspace(60, 140, width, dtype=np.uint8)[None, :, None]  # a wall, not a flat colour
    if not photos:
        return frame
    column = width // len(photos)
    for i, pixels in enumerate(photos):
        h, w = pixels.shape[:2]
        scale = min(column / w, height / h)
        fitted = cv2.resize(pixels, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
        y = (height - fitted.shape[0]) // 2
        x = i * column + (column - fitted.shape[1]) // 2
        frame[y : y + fitted.shape[0], x : x + fitted.shape[1]] = fitted
    return frame
