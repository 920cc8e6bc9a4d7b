"""Covering detection: is a face hidden by a mask, a helmet, sunglasses or a hood/cap?

`classify(image, face)` scores every label from what SFace already computed for the face:
its last convolutional feature map (1024 x 7 x 7, before the embedding layer), averaged,
which the engine keeps on each Face (`Face.trunk`) at no extra inference. A logistic head
per label turns it into a confidence. (The wider head crop's HOG/colour features and the
128-d embedding itself are the other candidates `train_covering --features` can use.) The
weights (about 25 kB, `recognition/covering.npz`) are written by
`python manage.py train_covering` (recognition/covering_training.py); why this model, and
how it compares with the others tried, is in docs/recognition.md.

Covering runs as a step after detection, on `covering_faces(engine, image)`: the engine's
faces down to a lower detector confidence than search uses (helmets and full masks get lower
scores), at least COVERING_MIN_FACE_PX. It never changes which faces are searched against
the watchlists: only those with `engine.searchable(face)` are.
"""

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from recognition.engine import ALIGN_TEMPLATE, CROP_SIZE, Engine, Face

logger = logging.getLogger(__name__)

LABELS: tuple[str, ...] = ("mask", "helmet", "sunglasses", "hood")
WEIGHTS_FILE = Path(__file__).with_name("covering.npz")

# The head crop: the 112x112 SFace template placed in a larger square that also holds the
# forehead, the crown and a helmet above it, the ears and the chin. Template units.
HEAD_SIZE = 64
_HEAD_LEFT, _HEAD_TOP, _HEAD_SPAN = -44.0, -68.0, 200.0
HEAD_TEMPLATE = (
    (ALIGN_TEMPLATE - np.array([_HEAD_LEFT, _HEAD_TOP], dtype=np.float32)) * (HEAD_SIZE / _HEAD_SPAN)
).astype(np.float32)
_HOG = cv2.HOGDescriptor((HEAD_SIZE, HEAD_SIZE), (16, 16), (8, 8), (8, 8), 9)
COLOUR_GRID = 6


@dataclass(frozen=True)
class Covering:
    scores: dict[str, float]  # every label's confidence in [0, 1]
    labels: tuple[str, ...]  # labels at or above their decision threshold, most confident first

    @property
    def covered(self) -> bool:
        return bool(self.labels)


def _similarity(face: Face) -> NDArray[np.float64] | None:
    """The transform from image pixels to the head crop, from the five landmarks (or, for a
    detector that gives fewer, from the box)."""
    if len(face.landmarks) == 5:
        points = np.array(face.landmarks, dtype=np.float32)
        matrix, _ = cv2.estimateAffinePartial2D(points, HEAD_TEMPLATE, method=cv2.LMEDS)
        if matrix is not None:
            return np.asarray(matrix, dtype=np.float64)
    x, y, w, h = face.box
    if w <= 0 or h <= 0:
        return None
    # Box-based fallback: the box spans roughly the 112 template, brows to chin.
    scale = HEAD_SIZE / _HEAD_SPAN * CROP_SIZE / max(w, h)
    left = (0 - _HEAD_LEFT) * HEAD_SIZE / _HEAD_SPAN
    top = (0 - _HEAD_TOP) * HEAD_SIZE / _HEAD_SPAN
    return np.array([[scale, 0, left - x * scale], [0, scale, top - y * scale]], dtype=np.float64)


def head_crop(image_bgr: NDArray[np.uint8], face: Face) -> NDArray[np.uint8]:
    """The HEAD_SIZE square BGR crop of the whole head (black outside the image)."""
    matrix = _similarity(face)
    if matrix is None:
        return np.zeros((HEAD_SIZE, HEAD_SIZE, 3), dtype=np.uint8)
    return np.asarray(
        cv2.warpAffine(
            image_bgr, matrix, (HEAD_SIZE, HEAD_SIZE), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
        ),
        dtype=np.uint8,
    )


def head_features(crop: NDArray[np.uint8]) -> NDArray[np.float32]:
    """HOG of the grey head crop and a coarse Lab colour grid (1764 + 108 values)."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    grey = cv2.equalizeHist(grey)
    hog = np.asarray(_HOG.compute(grey), dtype=np.float32).ravel()
    lab = cv2.cvtColor(cv2.resize(crop, (COLOUR_GRID, COLOUR_GRID), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2LAB)
    colour = lab.astype(np.float32).ravel() / 255.0
    return np.concatenate([hog, colour])


class NoTrunkError(ValueError):
    """The face came from an engine that does not run SFace itself (no feature map)."""


def features(image_bgr: NDArray[np.uint8], face: Face, kind: str) -> NDArray[np.float32]:
    """The feature vector a model of this kind reads, its parts joined by "+": "trunk" (SFace's
    last feature map averaged over the face, 1024 values), "embedding" (the 128-d SFace
    embedding) or "head" (HOG and colour of the wider head crop)."""
    parts: list[NDArray[np.float32]] = []
    for part in kind.split("+"):
        if part == "trunk":
            if face.trunk is None:
                raise NoTrunkError("covering needs the engine's own SFace (BANKWATCH_MODEL=SFace, detector yunet)")
            parts.append(np.asarray(face.trunk, dtype=np.float32).mean(axis=1))
        elif part == "embedding":
            parts.append(np.asarray(face.embedding, dtype=np.float32).ravel())
        elif part == "head":
            parts.append(head_features(head_crop(image_bgr, face)))
        else:
            raise ValueError(f"unknown covering feature {part!r}")
    return np.concatenate(parts)


class CoveringModel:
    """Per-label logistic heads on standardised features, with one decision threshold per label."""

    def __init__(self, arrays: dict[str, Any]) -> None:
        self.kind = str(arrays["kind"])
        self.labels = tuple(str(label) for label in arrays["labels"])
        self.mean = np.asarray(arrays["mean"], dtype=np.float32)
        self.scale = np.asarray(arrays["scale"], dtype=np.float32)
        self.weights = np.asarray(arrays["weights"], dtype=np.float32)  # features x labels
        self.bias = np.asarray(arrays["bias"], dtype=np.float32)
        self.thresholds = np.asarray(arrays["thresholds"], dtype=np.float32)

    @classmethod
    def load(cls, path: Path) -> "CoveringModel":
        with np.load(path, allow_pickle=False) as data:
            return cls({name: data[name] for name in data.files})

    def scores(self, rows: NDArray[np.float32]) -> NDArray[np.float32]:
        """Confidences in [0, 1], one row per feature vector, one column per label."""
        logits = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30))), dtype=np.float32)

    def covering(self, scores: NDArray[np.float32]) -> Covering:
        above = [(float(scores[i]), label) for i, label in enumerate(self.labels) if scores[i] >= self.thresholds[i]]
        return Covering(
            scores={label: round(float(scores[i]), 4) for i, label in enumerate(self.labels)},
            labels=tuple(label for _, label in sorted(above, reverse=True)),
        )


def min_detector_confidence() -> float:
    """The detector score down to which faces are classified (never searched below the engine's)."""
    return float(settings.COVERING_MIN_DETECTOR_CONFIDENCE)


def is_classifiable(face: Face) -> bool:
    return min(face.box[2], face.box[3]) >= settings.COVERING_MIN_FACE_PX


def covering_faces(engine: Engine, image_bgr: NDArray[np.uint8]) -> list[Face]:
    """The faces of a frame the covering step classifies: down to the covering confidence floor,
    at least COVERING_MIN_FACE_PX, largest first. Only those with `engine.searchable(face)`
    may be searched against the watchlists."""
    return [face for face in engine.analyze(image_bgr, min_detector_confidence()) if is_classifiable(face)]


@cache
def get_model(path: Path = WEIGHTS_FILE) -> CoveringModel:
    return CoveringModel.load(path)


UNKNOWN = Covering(scores=dict.fromkeys(LABELS, 0.0), labels=())


def classify_faces(image_bgr: NDArray[np.uint8], faces: list[Face]) -> list[Covering]:
    """One Covering per face. On an engine without SFace's feature map (BANKWATCH_MODEL=Dlib, or
    the "deepface" runtime) covering cannot be told: every face gets UNKNOWN (no label, scores 0),
    a warning is logged once, and recognition goes on."""
    if not faces:
        return []
    model = get_model()
    if "trunk" in model.kind.split("+") and any(face.trunk is None for face in faces):
        _warn_no_trunk()
        known = [face for face in faces if face.trunk is not None]
        results = iter(classify_faces(image_bgr, known))
        return [next(results) if face.trunk is not None else UNKNOWN for face in faces]
    rows = np.stack([features(image_bgr, face, model.kind) for face in faces])
    return [model.covering(row) for row in model.scores(rows)]


@cache
def _warn_no_trunk() -> None:
    logger.warning("covering detection is off: the engine gives no SFace feature map (docs/recognition.md)")


def classify(image_bgr: NDArray[np.uint8], face: Face) -> Covering:
    return classify_faces(image_bgr, [face])[0]
