"""The one place BankWatch runs face recognition.

`get_engine().analyze(bgr)` returns every face in an image with its box, landmarks,
detector confidence, aligned crop and L2-normalised embedding. Models come from
DeepFace (`deepface.modules.modeling`) and are loaded once per process.

With the YuNet detector, faces are aligned on all five landmarks to the 112x112
template SFace and ArcFace were trained on (a similarity transform), instead of
DeepFace's eye-line rotation and crop: on the deepface-unit pair files this took SFace
from 98.6-99.3 % to 99.6-100 % pair accuracy (docs/recognition.md). Other detectors go
through `DeepFace.represent` unchanged.
"""

import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from recognition.weights import require_weights

# Five-point template of the 112x112 crops SFace/ArcFace were trained on
# (eyes, nose tip, mouth corners).
ALIGN_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
CROP_SIZE = 112


@dataclass
class Face:
    box: tuple[int, int, int, int]  # x, y, w, h in image pixels
    confidence: float
    landmarks: list[tuple[float, float]]  # eyes first (image-left, image-right), then nose and mouth if known
    crop: NDArray[Any]  # aligned face, BGR uint8
    embedding: NDArray[Any] = field(repr=False)

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


def l2_normalise(vector: Any) -> NDArray[Any]:
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


class Engine:
    def __init__(self, model_name: str, detector: str, min_confidence: float, detect_max_side: int) -> None:
        require_weights(model_name, detector)
        from deepface.modules import modeling

        self.model_name = model_name
        self.detector = detector
        self.min_confidence = min_confidence
        self.detect_max_side = detect_max_side
        self._model = modeling.build_model(task="facial_recognition", model_name=model_name)
        self._local = threading.local()
        if detector == "yunet":
            self._yunet()  # load now so the first frame pays nothing

    @property
    def model_id(self) -> str:
        """Identifies the embedding space; templates made by another model are not comparable."""
        return f"{self.model_name}+{self.detector}"

    def _yunet(self) -> Any:
        # cv2.FaceDetectorYN keeps per-call state (input size), so each thread has its own.
        detector = getattr(self._local, "yunet", None)
        if detector is None:
            from deepface.models.face_detection.YuNet import YuNetClient

            detector = YuNetClient().model
            self._local.yunet = detector
        return detector

    def analyze(self, image: NDArray[np.uint8]) -> list[Face]:
        faces = self._analyze_five_point(image) if self.detector == "yunet" else self._analyze_deepface(image)
        return sorted(faces, key=lambda f: f.area, reverse=True)

    def detect(self, image: NDArray[np.uint8]) -> NDArray[np.float32]:
        """YuNet rows: x, y, w, h, 5 landmark pairs, score; in the coordinates of `image`."""
        height, width = image.shape[:2]
        scale = min(1.0, self.detect_max_side / max(height, width))
        small = (
            cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
            if scale < 1
            else image
        )
        detector = self._yunet()
        detector.setInputSize((small.shape[1], small.shape[0]))
        detector.setScoreThreshold(self.min_confidence)
        _, rows = detector.detect(small)
        if rows is None:
            return np.zeros((0, 15), dtype=np.float32)
        rows = rows.astype(np.float32)
        rows[:, :14] /= scale
        return rows

    def _analyze_five_point(self, image: NDArray[np.uint8]) -> list[Face]:
        rows = self.detect(image)
        if len(rows) == 0:
            return []
        crops = []
        for row in rows:
            points = row[4:14].reshape(5, 2)
            matrix, _ = cv2.estimateAffinePartial2D(points, ALIGN_TEMPLATE, method=cv2.LMEDS)
            if matrix is None:
                crops.append(None)
                continue
            crops.append(cv2.warpAffine(image, matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR))
        kept = [(row, crop) for row, crop in zip(rows, crops, strict=True) if crop is not None]
        if not kept:
            return []
        batch = np.stack([crop for _, crop in kept]).astype(np.float32) / 255.0
        embeddings = self._model.predict(batch)
        faces = []
        height, width = image.shape[:2]
        for (row, crop), embedding in zip(kept, embeddings, strict=True):
            x, y, w, h = (int(round(v)) for v in row[:4])
            x, y = max(x, 0), max(y, 0)
            w, h = min(w, width - x), min(h, height - y)
            faces.append(
                Face(
                    box=(x, y, w, h),
                    confidence=float(row[14]),
                    landmarks=[(float(px), float(py)) for px, py in row[4:14].reshape(5, 2)],
                    crop=crop,
                    embedding=l2_normalise(embedding),
                )
            )
        return faces

    def _analyze_deepface(self, image: NDArray[np.uint8]) -> list[Face]:
        from deepface import DeepFace

        results = DeepFace.represent(
            image,
            model_name=self.model_name,
            detector_backend=self.detector,
            enforce_detection=False,
            align=True,
            return_face=True,
        )
        faces = []
        for result in results:  # type: ignore[union-attr]
            area = result["facial_area"]
            confidence = float(result.get("face_confidence") or 0.0)
            if confidence <= 0 or confidence < self.min_confidence:
                continue  # DeepFace returns the whole image with confidence 0 when it found no face
            eyes = [area.get("left_eye"), area.get("right_eye")]
            face_pixels = np.asarray(result.get("face"))
            crop = cv2.resize((face_pixels[:, :, ::-1] * 255).astype(np.uint8), (CROP_SIZE, CROP_SIZE))
            faces.append(
                Face(
                    box=(int(area["x"]), int(area["y"]), int(area["w"]), int(area["h"])),
                    confidence=confidence,
                    landmarks=[(float(p[0]), float(p[1])) for p in eyes if p],
                    crop=crop,
                    embedding=l2_normalise(result["embedding"]),
                )
            )
        return faces


_lock = threading.Lock()


@cache
def _engine(model_name: str, detector: str, min_confidence: float, detect_max_side: int) -> Engine:
    return Engine(model_name, detector, min_confidence, detect_max_side)


def get_engine() -> Engine:
    """The process's engine for the configured model and detector, built on first use."""
    with _lock:
        return _engine(
            settings.RECOGNITION_MODEL,
            settings.RECOGNITION_DETECTOR,
            settings.RECOGNITION_MIN_DETECTOR_CONFIDENCE,
            settings.RECOGNITION_DETECT_MAX_SIDE,
        )


def similarity(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Cosine similarity of two L2-normalised embeddings (1 = identical)."""
    return float(np.dot(a, b))
