"""Synthetic coverings drawn on a real face from its five landmarks.

`draw_synthetic_mask` is used for masked templates at enrollment (a template of each
reference photo as it would look behind a surgical mask, so that a masked probe has
something masked to compare with), for the masked-pair evaluation in docs/recognition.md,
and to give the covering classifier masked faces from sources that have none
(recognition/covering_training.py).
"""

import cv2
import numpy as np
from numpy.typing import NDArray

from recognition.engine import Engine, Face

MASK_COLOURS: tuple[tuple[int, int, int], ...] = (
    (235, 225, 200),  # light blue surgical (BGR)
    (240, 240, 240),  # white
    (40, 40, 40),  # black cloth
    (150, 160, 170),  # grey
)


def _points(face: Face) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Eye centre, nose tip, mouth centre and the unit vector pointing down the face."""
    marks = np.array(face.landmarks, dtype=np.float64)
    eyes = marks[:2].mean(axis=0)
    nose = marks[2]
    mouth = marks[3:5].mean(axis=0)
    down = mouth - eyes
    length = float(np.linalg.norm(down))
    return eyes, nose, mouth, down / length if length > 0 else np.array([0.0, 1.0])


def draw_synthetic_mask(
    image_bgr: NDArray[np.uint8], face: Face, colour: tuple[int, int, int] | None = None
) -> NDArray[np.uint8]:
    """A copy of the image with a mask over the nose, mouth and chin of `face`, from the
    bridge of the nose (a third of the way from the eyes to the nose tip) to below the chin,
    cheek to cheek. Needs the five landmarks (eyes, nose, mouth corners); a face without
    them is returned unchanged."""
    out = np.array(image_bgr, copy=True)
    if len(face.landmarks) < 5:
        return out
    eyes, nose, mouth, down = _points(face)
    across = np.array([down[1], -down[0]])  # perpendicular, towards image-left eye side flipped
    marks = np.array(face.landmarks, dtype=np.float64)
    eye_gap = float(np.linalg.norm(marks[1] - marks[0]))
    drop = float(np.linalg.norm(mouth - eyes))
    top = eyes + down * (0.40 * float(np.dot(nose - eyes, down)))
    chin = mouth + down * (0.75 * drop)
    half_top, half_mid, half_chin = 0.95 * eye_gap, 1.05 * eye_gap, 0.55 * eye_gap
    middle = mouth - down * (0.15 * drop)
    polygon = np.array(
        [
            top - across * half_top,
            top - across * 0.25 * eye_gap + down * -0.06 * drop,  # the mask rises over the nose
            top + across * 0.25 * eye_gap + down * -0.06 * drop,
            top + across * half_top,
            middle + across * half_mid,
            chin + across * half_chin,
            chin + down * 0.05 * drop,
            chin - across * half_chin,
            middle - across * half_mid,
        ]
    )
    fill = colour or MASK_COLOURS[0]
    cv2.fillPoly(out, [np.round(polygon).astype(np.int32)], fill, lineType=cv2.LINE_AA)
    # Pleats: two faint darker lines across, as on a surgical mask.
    shade = tuple(max(0, c - 35) for c in fill)
    for t in (0.35, 0.6):
        centre = top + (chin - top) * t
        start, end = centre - across * 0.9 * eye_gap, centre + across * 0.9 * eye_gap
        cv2.line(out, tuple(np.round(start).astype(int)), tuple(np.round(end).astype(int)), shade, 1, cv2.LINE_AA)
    return out


def face_row(face: Face) -> NDArray[np.float32]:
    """The detector row (x, y, w, h, five landmark pairs, score) a Face was made from."""
    return np.array(
        [[*face.box, *(v for point in face.landmarks[:5] for v in point), face.confidence]], dtype=np.float32
    )


def masked_embedding(engine: Engine, image_bgr: NDArray[np.uint8], face: Face) -> NDArray[np.float32] | None:
    """The template of `face` behind a synthetic mask (made as its plain template is,
    recognition.decision.template_embedding), aligned on the face's own landmarks (the detector
    is not asked again: a mask moves its nose and mouth points). None without five landmarks."""
    if len(face.landmarks) < 5:
        return None
    from recognition.decision import template_embedding

    masked = engine.describe(draw_synthetic_mask(image_bgr, face), face_row(face))
    return template_embedding(engine, masked[0]) if masked else None
