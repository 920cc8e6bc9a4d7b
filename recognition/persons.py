"""People in a frame, offline: OpenCV's built-in HOG + linear SVM pedestrian detector.

Used on entrance cameras for `face_hidden` (a person in view whose face the face detector
cannot see: turned away, or fully covered). The detector ships inside OpenCV (no weight
file, nothing to download) and finds upright people at least about 128 px tall in the
frame it is given; frames are scaled to `PERSON_DETECT_MAX_SIDE` first, which bounds its
cost (docs/recognition.md gives the figures).
"""

import threading

import cv2
import numpy as np
from django.conf import settings
from numpy.typing import NDArray

_local = threading.local()
# Boxes the SVM scores under this are dropped (its raw margin; OpenCV's own examples keep > 0).
MIN_WEIGHT = 0.5


def _detector() -> cv2.HOGDescriptor:
    detector = getattr(_local, "detector", None)
    if detector is None:
        detector = _local.detector = cv2.HOGDescriptor()
        detector.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32))
    return detector


def detect_people(image_bgr: NDArray[np.uint8]) -> list[tuple[int, int, int, int]]:
    """x, y, w, h boxes of the people in the image, in its pixel coordinates, most certain first."""
    height, width = image_bgr.shape[:2]
    scale = min(1.0, settings.PERSON_DETECT_MAX_SIDE / max(height, width))
    small = (
        cv2.resize(image_bgr, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        if scale < 1
        else image_bgr
    )
    if min(small.shape[:2]) < 128:
        return []
    found, raw_weights = _detector().detectMultiScale(small, winStride=(8, 8), padding=(8, 8), scale=1.05)
    boxes = np.asarray(found, dtype=np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        return []
    weights = np.asarray(raw_weights, dtype=np.float64).reshape(-1)
    kept = cv2.dnn.NMSBoxes(boxes.astype(int).tolist(), weights.tolist(), MIN_WEIGHT, 0.4)
    order = sorted(np.asarray(kept, dtype=np.int64).reshape(-1).tolist(), key=lambda i: -weights[i])
    people = []
    for i in order:
        x, y, w, h = (int(round(v / scale)) for v in boxes[i])
        people.append((x, y, w, h))
    return people
