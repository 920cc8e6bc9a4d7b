"""The one place BankWatch runs face recognition.

`get_engine().analyze(bgr)` returns every face in an image with its box, landmarks,
detector confidence, aligned crop and L2-normalised embedding. Models are loaded once
per process: the default SFace + YuNet pair runs from DeepFace's weight files with their
weights dequantised once at load, SFace on OpenVINO when it is installed (bfloat16 on CPUs
with AMX) and YuNet on ONNX Runtime (recognition/nets.py, docs/benchmarks.md); other
models come from DeepFace (`deepface.modules.modeling`).

With the YuNet detector, faces are aligned on all five landmarks to the 112x112
template SFace and ArcFace were trained on (a similarity transform), instead of
DeepFace's eye-line rotation and crop: on the deepface-unit pair files this took SFace
from 98.6-99.3 % to 99.6-100 % pair accuracy (docs/recognition.md). Other detectors go
through `DeepFace.represent` unchanged.
"""

import contextlib
import ctypes
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from recognition import runtimes
from recognition.model_id import model_id
from recognition.nets import DeepFaceYuNet, SFaceNet, YuNet
from recognition.weights import require_weights, weights_dir

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
    # SFace's last feature map averaged per row (1024 x 7), for the covering step; None on
    # engines that do not run SFace themselves (recognition/covering.py falls back on the crop).
    trunk: NDArray[Any] | None = field(default=None, repr=False)

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


def l2_normalise(vector: Any) -> NDArray[Any]:
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _release_freed_memory() -> None:
    """Loading leaves ~100 MB of freed heap (ONNX protos, float copies of the weights) that glibc
    keeps for later; hand it back so that each worker process stays that much smaller."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


BORDERS = {"constant": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE, "reflect": cv2.BORDER_REFLECT_101}


def align(image: NDArray[np.uint8], matrix: NDArray[Any], border: str) -> NDArray[np.uint8]:
    """The 112x112 crop for `matrix`, filled per `border` where it runs past the photo (a tight
    crop, a face at the frame's edge). Black ("constant") is the default: continuing the edge
    pixels instead made tight crops of different people more alike (docs/recognition.md)."""
    crop = cv2.warpAffine(image, matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR, borderMode=BORDERS[border])
    return np.asarray(crop, dtype=np.uint8)


class Engine:
    def __init__(
        self,
        model_name: str,
        detector: str,
        min_confidence: float,
        detect_max_side: int,
        threads: int = 1,
        runtime: str = "onnxruntime",
        border: str = "constant",
    ) -> None:
        require_weights(model_name, detector)
        self.model_name = model_name
        self.detector = detector
        self.min_confidence = min_confidence
        self.detect_max_side = detect_max_side
        self.threads = threads
        self.border = border
        # OpenCV's own thread pool (resize, warps) would otherwise take every core in each worker.
        cv2.setNumThreads(threads)
        self._sface: SFaceNet | None = None
        self._model: Any = None
        self._yunet: YuNet | DeepFaceYuNet | None = None
        if runtime == "auto":
            runtime = "openvino" if runtimes.available("openvino") else "onnxruntime"
        self.runtime = runtime
        if model_name == "SFace" and detector == "yunet" and runtime != "deepface":
            # DeepFace's SFace and YuNet weight files, run with their weights dequantised once
            # (recognition/nets.py), shared by all threads of the process. tests/test_engine.py
            # checks they give DeepFace's own detections and embeddings.
            self._sface = SFaceNet(weights_dir() / "face_recognition_sface_2021dec.onnx", threads, runtime)
            self._yunet = YuNet(weights_dir() / "face_detection_yunet_2023mar.onnx", threads)
        else:
            from deepface.modules import modeling

            self._model = modeling.build_model(task="facial_recognition", model_name=model_name)
            if detector == "yunet":
                self._yunet = DeepFaceYuNet()
        _release_freed_memory()

    @property
    def model_id(self) -> str:
        """Identifies the embedding space; templates made by another model are not comparable."""
        return model_id(self.model_name, self.detector)

    def analyze(self, image: NDArray[np.uint8], min_confidence: float | None = None) -> list[Face]:
        """Every face at or above `min_confidence` (default: the engine's), largest first.

        A lower `min_confidence` is for the covering step alone (helmets and full masks get
        lower detector scores); only faces with `searchable(face)` go to the watchlists."""
        floor = self.min_confidence if min_confidence is None else min_confidence
        faces = (
            self._analyze_five_point(image, floor) if self.detector == "yunet" else self._analyze_deepface(image, floor)
        )
        return sorted(faces, key=lambda f: f.area, reverse=True)

    def searchable(self, face: Face) -> bool:
        """Whether the detector is sure enough of this face to search it against the watchlists."""
        return face.confidence >= self.min_confidence

    def detect(self, image: NDArray[np.uint8], min_confidence: float | None = None) -> NDArray[np.float32]:
        """YuNet rows: x, y, w, h, 5 landmark pairs, score; in the coordinates of `image`."""
        if self._yunet is None:
            raise RuntimeError(f"detect() needs the yunet detector, not {self.detector}")
        height, width = image.shape[:2]
        scale = min(1.0, self.detect_max_side / max(height, width))
        small: NDArray[np.uint8] = (
            np.asarray(cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA))
            if scale < 1
            else image
        )
        rows = self._yunet.detect(small, self.min_confidence if min_confidence is None else min_confidence)
        rows[:, :14] /= scale
        return rows

    def mirror_averaged(self, crops: NDArray[np.uint8]) -> NDArray[np.float32]:
        """L2-normalised mean of each aligned crop's embedding and its mirror image's: the form
        templates take (recognition.decision.template_embedding, docs/recognition.md)."""
        both = self.embed(np.concatenate([crops, np.ascontiguousarray(crops[:, :, ::-1])]))
        count = len(crops)
        return np.stack(
            [l2_normalise(l2_normalise(a) + l2_normalise(b)) for a, b in zip(both[:count], both[count:], strict=True)]
        )

    def embed(self, crops: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Raw embeddings of aligned 112x112 BGR crops, one batch for all faces of a frame."""
        return self.embed_with_trunk(crops)[0]

    def embed_with_trunk(self, crops: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        """`embed`'s embeddings and, with the engine's own SFace, the row-averaged last feature
        map of each crop as given (for the covering step, recognition/covering.py)."""
        if self._sface is not None:
            return self._sface.embed_with_trunk(crops)
        return np.asarray(self._model.predict(crops.astype(np.float32) / 255.0), dtype=np.float32), None

    def _analyze_five_point(self, image: NDArray[np.uint8], min_confidence: float) -> list[Face]:
        return self.describe(image, self.detect(image, min_confidence))

    def describe(self, image: NDArray[np.uint8], rows: NDArray[np.float32]) -> list[Face]:
        """Align and embed the faces `detect` found in `image` (faces whose landmarks give no
        alignment are left out)."""
        if len(rows) == 0:
            return []
        crops = []
        for row in rows:
            points = row[4:14].reshape(5, 2)
            matrix, _ = cv2.estimateAffinePartial2D(points, ALIGN_TEMPLATE, method=cv2.LMEDS)
            if matrix is None:
                crops.append(None)
                continue
            crops.append(align(image, matrix, self.border))
        kept = [(row, crop) for row, crop in zip(rows, crops, strict=True) if crop is not None]
        if not kept:
            return []
        embeddings, trunks = self.embed_with_trunk(np.stack([crop for _, crop in kept]))
        faces = []
        height, width = image.shape[:2]
        for index, ((row, crop), embedding) in enumerate(zip(kept, embeddings, strict=True)):
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
                    trunk=None if trunks is None else trunks[index],
                )
            )
        return faces

    def _analyze_deepface(self, image: NDArray[np.uint8], min_confidence: float) -> list[Face]:
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
        for result in results:
            area = result["facial_area"]
            confidence = float(result.get("face_confidence") or 0.0)
            if confidence <= 0 or confidence < min_confidence:
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
def _engine(
    model_name: str,
    detector: str,
    min_confidence: float,
    detect_max_side: int,
    threads: int,
    runtime: str,
    border: str = "constant",
) -> Engine:
    return Engine(model_name, detector, min_confidence, detect_max_side, threads, runtime, border)


def get_engine() -> Engine:
    """The process's engine for the configured model and detector, built on first use."""
    with _lock:
        return _engine(
            settings.RECOGNITION_MODEL,
            settings.RECOGNITION_DETECTOR,
            settings.RECOGNITION_MIN_DETECTOR_CONFIDENCE,
            settings.RECOGNITION_DETECT_MAX_SIDE,
            settings.RECOGNITION_THREADS,
            settings.RECOGNITION_RUNTIME,
            settings.RECOGNITION_ALIGN_BORDER,
        )


def similarity(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Cosine similarity of two L2-normalised embeddings (1 = identical)."""
    return float(np.dot(a, b))
