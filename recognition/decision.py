"""The match decision, in one place for the live pipeline and for `evaluate_pairs`.

A camera frame becomes probe faces with `probe_faces` (decode at the detector's size,
detect, align, embed, keep faces large enough to judge), and a reference photo becomes a
template with `reference_face` (decoded as enrollment decodes it, its largest face). The
gallery compares them by cosine similarity against the watchlist's threshold
(enrollment.gallery.search); evaluate_pairs calls these same functions, so what it
measures is what a camera would get.
"""

from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from recognition.images import CAMERA_FORMATS, decode_image

if TYPE_CHECKING:  # the engine's modules (OpenCV, ONNX) load only where recognition runs
    from recognition.engine import Engine, Face

PHOTO_MAX_SIDE = 1280  # reference photos decode at (at least) this size on their longer side


def decode_frame(
    data: bytes, formats: tuple[str, ...] = CAMERA_FORMATS, max_pixels: int | None = None
) -> NDArray[np.uint8]:
    """A camera frame at the detector's size; frames are held to BANKWATCH_MAX_FRAME_PIXELS."""
    limit = settings.MAX_FRAME_PIXELS if max_pixels is None else max_pixels
    return decode_image(data, max_side=settings.RECOGNITION_DETECT_MAX_SIDE, formats=formats, max_pixels=limit)


def is_usable(face: "Face") -> bool:
    """Whether a face in a frame is large enough to be compared with the gallery at all."""
    return min(face.box[2], face.box[3]) >= settings.RECOGNITION_MIN_FACE_PX


def probe_faces(engine: "Engine", image: NDArray[np.uint8]) -> tuple[list["Face"], list[int]]:
    """Every face in a decoded frame (largest first) down to the covering step's detector floor
    (recognition.covering.covering_faces: a helmet or a full mask lowers the detector's score), and
    the indexes of those usable as probes: sure enough to search (`engine.searchable`) and large
    enough. The probes are exactly the faces a detection at the engine's own floor gives."""
    from recognition.covering import covering_faces

    faces = covering_faces(engine, image)
    return faces, [i for i, face in enumerate(faces) if engine.searchable(face) and is_usable(face)]


def reference_face(engine: "Engine", image: NDArray[np.uint8]) -> "Face | None":
    """The face a reference photo's template is made from: its largest (enrollment/quality.py)."""
    faces = engine.analyze(image)
    return faces[0] if faces else None


def template_embedding(engine: "Engine", face: "Face") -> NDArray[np.float32]:
    """The template stored for a reference face: with BANKWATCH_MIRROR_TEMPLATES (default), the
    mean of its embedding and its mirror image's, which matches probes turned either way better
    (docs/recognition.md); it costs one more embedding per reference photo and nothing per frame."""
    if not settings.RECOGNITION_MIRROR_TEMPLATES or engine.model_id != "SFace+yunet":
        return face.embedding
    return engine.mirror_averaged(face.crop[None])[0]
