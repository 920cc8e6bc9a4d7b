"""Degraded copies of photos, made at evaluation time, as branch cameras would give them.

Each copy is deterministic: its random draws come from a generator seeded with the
photo's path and the run's seed, so two runs score the same pixels.

- `shrink`: the photo scaled so that its largest face is 40-56 px on its shorter side, on a
  640x480 grey frame as a lobby camera sees a visitor, then blurred (Gaussian sigma
  0.5-1.2 px) and saved as JPEG at quality 30-60.
- `mask`: the lower face covered by the synthetic mask the covering step trains on
  (recognition.masking.draw_synthetic_mask: from the bridge of the nose to below the chin,
  cheek to cheek, drawn from the five landmarks).
"""

import zlib
from collections.abc import Callable

import cv2
import numpy as np
from numpy.typing import NDArray

from recognition.engine import Engine, Face
from recognition.images import encode_jpeg
from recognition.masking import draw_synthetic_mask

SHRINK_FACE_PX = (40, 56)
FRAME_SIZE = (640, 480)


def rng_for(path: str, seed: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{seed}:{path}".encode()))


def shrink(image: NDArray[np.uint8], face: Face, rng: np.random.Generator) -> bytes:
    target = rng.uniform(*SHRINK_FACE_PX)
    scale = min(1.0, target / max(min(face.box[2], face.box[3]), 1))
    height, width = image.shape[:2]
    small = cv2.resize(
        image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    frame = np.full((FRAME_SIZE[1], FRAME_SIZE[0], 3), 110, dtype=np.uint8)
    h, w = min(small.shape[0], FRAME_SIZE[1]), min(small.shape[1], FRAME_SIZE[0])
    y0, x0 = (FRAME_SIZE[1] - h) // 2, (FRAME_SIZE[0] - w) // 2
    frame[y0 : y0 + h, x0 : x0 + w] = small[:h, :w]
    frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), float(rng.uniform(0.5, 1.2))), dtype=np.uint8)
    return encode_jpeg(frame, quality=int(rng.integers(30, 61)))


def mask(image: NDArray[np.uint8], face: Face, rng: np.random.Generator) -> bytes:
    return encode_jpeg(draw_synthetic_mask(image, face), quality=92)


DEGRADATIONS: dict[str, Callable[[NDArray[np.uint8], Face, np.random.Generator], bytes]] = {
    "shrink": shrink,
    "mask": mask,
}


def degraded(engine: Engine, image: NDArray[np.uint8], kind: str, rng: np.random.Generator) -> bytes | None:
    """The degraded copy of `image` as encoded bytes, or None when it shows no face to degrade."""
    faces = engine.analyze(image)
    if not faces:
        return None
    return DEGRADATIONS[kind](image, faces[0], rng)
