"""The quality gate for reference photos: is this one face, large, sharp, frontal and clearly a face?

A reference photo becomes the template every camera frame is compared with, so a poor one
either misses the person or, worse, matches strangers. Each check answers with a reason a
curator can act on. The limits are settings; their defaults come from face geometry and
from what the recognition model was trained on, not from the photos in our tests:

- several faces: the largest face is the subject only when it clearly dominates. A second
  face with at least 30 % of its area (a head about 55 % as wide, i.e. someone standing
  next to the subject rather than far behind) makes it ambiguous who is meant.
- too small: SFace and ArcFace embed a 112x112 crop; below about half of that (60 px face
  box) the crop is an up-scaled guess and the embedding loses identity detail.
- blur: variance of the Laplacian of the 112x112 aligned crop, after normalising its
  contrast, so that it measures edges and not lighting. The limit (30) sits below what a
  sharp face shrunk to 40 px and enlarged back to the crop still reaches (median 47 on
  the deepface-unit portraits; 102 at 60 px), so only photos with less detail than a
  face smaller than the size limit are refused as blurred. See `sharpness`.
- yaw: from the 5 landmarks. See `estimate_yaw`.
- detector confidence: YuNet scores a clear face above 0.9; below 0.8 it is unsure that
  the patch is a face at all, and an unsure face is not fit to be a reference.
"""

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from enrollment.reasons import render
from recognition.engine import ALIGN_TEMPLATE, CROP_SIZE, Face


@dataclass
class Verdict:
    accepted: bool
    code: str = ""  # why it was refused: a code of enrollment/reasons.py, worded when shown
    face: Face | None = None  # the subject's face: the largest one
    measures: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    held_with: int | None = None  # another subject with this face: held for a curator, neither accepted nor rejected

    @property
    def reason(self) -> str:
        """The refusal in the active language ("" when accepted)."""
        return render(self.code, self.params) if self.code else ""


def aligned_crop(image: NDArray[np.uint8], face: Face) -> NDArray[np.uint8]:
    """The face aligned as the engine aligns it, but area-averaged and with replicated borders.

    The engine's crop pads with black where the face meets the photo's edge; that border is
    the sharpest edge in the crop and would make any blurred face near an edge look sharp.
    """
    if len(face.landmarks) < 5:
        return face.crop
    points = np.asarray(face.landmarks, dtype=np.float32)
    matrix, _ = cv2.estimateAffinePartial2D(points, ALIGN_TEMPLATE, method=cv2.LMEDS)
    if matrix is None:
        return face.crop
    crop = cv2.warpAffine(image, matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(crop, dtype=np.uint8)


def sharpness(crop: NDArray[np.uint8]) -> float:
    """Laplacian variance of the aligned crop with its contrast normalised.

    The grey crop is scaled to unit standard deviation (times 50, a typical value for a
    well-lit 8-bit face), so a dim but sharp photo is not taken for a blurred one. A
    Gaussian blur of sigma s divides the Laplacian's energy at fine scales by a factor that
    grows fast with s, so blurred faces fall far below sharp ones whatever their lighting.
    """
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)
    std = float(grey.std())
    if std < 1e-3:
        return 0.0
    grey = (grey - float(grey.mean())) * (50.0 / std)
    return float(cv2.Laplacian(grey, cv2.CV_32F, ksize=1).var())


def estimate_yaw(landmarks: list[tuple[float, float]]) -> float | None:
    """Degrees the head is turned left or right, from the eyes and nose tip.

    With the head turned by yaw t (weak perspective), the eyes sit at +-e*cos(t) from the
    head's axis and the nose tip, about as far in front of the eyes as the eyes are apart
    from the axis (n ~ e on an adult face), at n*sin(t). So the nose's offset from the eye
    midpoint, measured along the eye line in units of half the eye distance, is about
    tan(t). Measured along the eye line, so a tilted (rolled) head does not count as turned.
    """
    if len(landmarks) < 3:
        return None
    left, right, nose = (np.asarray(p, dtype=np.float64) for p in landmarks[:3])
    axis = right - left
    half = float(np.linalg.norm(axis)) / 2
    if half < 1e-6:
        return 90.0
    offset = float(np.dot(nose - (left + right) / 2, axis / (2 * half)))
    return math.degrees(math.atan(abs(offset) / half))


def check(image: NDArray[np.uint8], faces: list[Face]) -> Verdict:
    """Judge the faces found in a reference photo (largest first, as the engine returns them)."""
    if not faces:
        return Verdict(False, "photo.no_face")
    face = faces[0]
    measures: dict[str, Any] = {"faces": len(faces), "confidence": round(face.confidence, 3)}
    width = min(face.box[2], face.box[3])
    measures["face_px"] = width
    if len(faces) > 1:
        ratio = faces[1].area / max(face.area, 1)
        measures["second_face_ratio"] = round(ratio, 3)
        if ratio >= settings.ENROLL_SECOND_FACE_RATIO:
            similar = sum(1 for f in faces if f.area / max(face.area, 1) >= settings.ENROLL_SECOND_FACE_RATIO)
            return Verdict(False, "photo.several_faces", face, measures, {"count": similar})
    if width < settings.ENROLL_MIN_FACE_PX:
        return Verdict(
            False, "photo.face_too_small", face, measures, {"width": width, "minimum": settings.ENROLL_MIN_FACE_PX}
        )
    if face.confidence < settings.ENROLL_MIN_CONFIDENCE:
        return Verdict(
            False,
            "photo.not_confident",
            face,
            measures,
            {"confidence": round(face.confidence, 2), "minimum": round(settings.ENROLL_MIN_CONFIDENCE, 2)},
        )
    sharp = sharpness(aligned_crop(image, face))
    measures["sharpness"] = round(sharp, 1)
    if sharp < settings.ENROLL_MIN_SHARPNESS:
        return Verdict(
            False,
            "photo.blurred",
            face,
            measures,
            {"sharpness": round(sharp), "minimum": round(settings.ENROLL_MIN_SHARPNESS)},
        )
    yaw = estimate_yaw(face.landmarks)
    if yaw is not None:
        measures["yaw_degrees"] = round(yaw, 1)
        if yaw > settings.ENROLL_MAX_YAW_DEGREES:
            return Verdict(
                False,
                "photo.turned",
                face,
                measures,
                {"yaw": round(yaw), "maximum": round(settings.ENROLL_MAX_YAW_DEGREES)},
            )
    return Verdict(True, "", face, measures)
