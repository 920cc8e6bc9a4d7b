"""Training the covering classifier (`python manage.py train_covering`), reproducibly.

1. Photos: the covered-faces-dev folder (`labels.csv`, with the corrections of
   `recognition/covering_labels.csv` applied: the file's label replaced, or the photo left
   out with label `drop`), plus uncovered faces from the sibling folders faces-dev,
   vn-faces-dev and deepface-unit. A note "also sunglasses" makes a photo a positive for that
   label too; "also cap/hat/hood/beanie" makes it neither positive nor negative for `hood`.
2. Split: a quarter of the photos, chosen by a hash of the file name (of the identity folder
   for the face sets, so that a person is on one side only), are held out of training and
   thresholds; `heldout_csv` lists the covered-faces-dev ones for `evaluate_covering`.
   `exclude_sources` drops whole sources (e.g. `rwmfd`) from training to measure on them.
3. Faces: the largest face the engine finds at the covering confidence floor, on the photo
   and on `augment` copies of it (crop, down-scale to a small face, blur, JPEG, flip, light);
   every other face of an uncovered photo is a negative too (a bystander, or a headlight or a
   bus window that the detector took for a face at a low score).
   Uncovered training faces also give a synthetic positive: a mask drawn from their landmarks
   (recognition/masking.py), so that the classifier sees masks on the faces of every source
   and not only on rwmfd's. (Drawn sunglasses were tried too and made real ones worse.)
4. Model: per label, class-balanced ridge regression on standardised features (closed form,
   so the same data gives the same weights), calibrated into a probability by a logistic fit
   of its out-of-fold scores. Each label's threshold is the lowest that keeps the
   false-positive rate on uncovered photos at `target_false_rate`, read from out-of-fold
   scores of the training photos (never from the held-out quarter).
"""

import csv
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from recognition import covering, masking
from recognition.blur import overlap
from recognition.engine import Engine, Face
from recognition.images import PHOTO_FORMATS, decode_image

CORRECTIONS_FILE = Path(__file__).with_name("covering_labels.csv")
UNCOVERED_SETS = ("faces-dev", "vn-faces-dev", "deepface-unit")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
DECODE_MAX_SIDE = 1280
FOLDS = 4
MIN_THRESHOLD = 0.5  # a label is claimed only when the calibrated score says it is more likely than not
IGNORE = -1

_SECONDARY = {
    "also sunglasses": ("sunglasses", 1),
    "also goggles": ("sunglasses", IGNORE),
    "also mask": ("mask", 1),
    "also helmet": ("helmet", 1),
    "also cap": ("hood", IGNORE),
    "also hat": ("hood", IGNORE),
    "also hood": ("hood", IGNORE),
    "also beanie": ("hood", IGNORE),
}


@dataclass
class Photo:
    path: Path
    name: str  # relative to its dataset folder, e.g. "mask/rwmfd_001.jpg"
    source: str  # rwmfd, pavhelm, selfsg, prajna, faces-dev, vn-faces-dev, deepface-unit
    label: str  # primary label, or "none"
    targets: dict[str, int]  # per covering label: 1, 0 or IGNORE
    heldout: bool
    fold: int
    note: str = ""


@dataclass
class Sample:
    photo: int  # index into the photo list
    variant: str  # "original", "augmented", "synthetic-mask", "synthetic-sunglasses"
    features: dict[str, NDArray[np.float32]]
    targets: dict[str, int]


def _bucket(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % FOLDS


def _targets(label: str, note: str) -> dict[str, int]:
    targets = {name: int(name == label) for name in covering.LABELS}
    for part in (p.strip().lower() for p in note.split(";")):
        for phrase, (name, value) in _SECONDARY.items():
            if part.startswith(phrase) and targets[name] != 1:
                targets[name] = value
    return targets


def read_corrections(path: Path = CORRECTIONS_FILE) -> dict[str, str]:
    """file -> corrected label ("drop" leaves the photo out)."""
    if not path.exists():
        return {}
    with path.open(newline="") as fh:
        return {row["file"].strip(): row["label"].strip() for row in csv.DictReader(fh) if row.get("file")}


def covered_photos(data_dir: Path, corrections: dict[str, str], heldout_fold: int | None) -> list[Photo]:
    photos = []
    with (data_dir / "labels.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            name = row["file"].strip()
            label = corrections.get(name, row["label"].strip())
            if label == "drop":
                continue
            bucket = _bucket(name)
            photos.append(
                Photo(
                    path=data_dir / name,
                    name=name,
                    source=Path(name).name.split("_")[0],
                    label=label,
                    targets=_targets(label, row.get("note") or ""),
                    heldout=bucket == heldout_fold,
                    fold=bucket,
                    note=row.get("note") or "",
                )
            )
    return photos


def uncovered_photos(folder: Path, corrections: dict[str, str], heldout_fold: int | None) -> list[Photo]:
    """Every photo of a face set as uncovered, held out by identity folder; a correction
    (keyed "<set>/<file>") can relabel one (a face set has sunglasses too) or drop it."""
    photos = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        name = path.relative_to(folder).as_posix()
        label = corrections.get(f"{folder.name}/{name}", "none")
        if label == "drop":
            continue
        bucket = _bucket(f"{folder.name}/{path.parent.name}")
        photos.append(
            Photo(path, name, folder.name, label, _targets(label, ""), heldout=bucket == heldout_fold, fold=bucket)
        )
    return photos


def largest(faces: list[Face]) -> Face | None:
    return max(faces, key=lambda f: f.area) if faces else None


def augment(
    image: NDArray[np.uint8], box: tuple[int, int, int, int], rng: np.random.Generator
) -> tuple[NDArray[np.uint8], tuple[float, float, float, float]]:
    """A random crop around the face, down-scaled (often to a small face), maybe flipped,
    blurred, re-lit, greyed or JPEG-compressed; and where the face box went."""
    height, width = image.shape[:2]
    x, y, w, h = box
    margin = rng.uniform(0.4, 2.5, size=4) * max(w, h)
    left, top = int(max(0, x - margin[0])), int(max(0, y - margin[1]))
    right, bottom = int(min(width, x + w + margin[2])), int(min(height, y + h + margin[3]))
    out: NDArray[Any] = image[top:bottom, left:right]
    fx, fy = float(x - left), float(y - top)
    face_px = float(rng.uniform(36, 140))
    scale = min(1.0, face_px / max(w, h, 1))
    if scale < 1:
        out = cv2.resize(
            out,
            (max(1, round(out.shape[1] * scale)), max(1, round(out.shape[0] * scale))),
            interpolation=cv2.INTER_AREA,
        )
    fx, fy, fw, fh = fx * scale, fy * scale, w * scale, h * scale
    if rng.random() < 0.5:
        out = out[:, ::-1]
        fx = out.shape[1] - fx - fw
    if rng.random() < 0.4:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.5, 1.6)))
    if rng.random() < 0.5:
        out = cv2.convertScaleAbs(out, alpha=float(rng.uniform(0.6, 1.3)), beta=float(rng.uniform(-30, 30)))
    if rng.random() < 0.1:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    if rng.random() < 0.6:
        ok, encoded = cv2.imencode(
            ".jpg", np.ascontiguousarray(out), [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 75))]
        )
        decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
        if decoded is not None:
            out = decoded
    return np.ascontiguousarray(out, dtype=np.uint8), (fx, fy, fw, fh)


def _features(image: NDArray[np.uint8], face: Face, kinds: Iterable[str]) -> dict[str, NDArray[np.float32]]:
    return {kind: covering.features(image, face, kind) for kind in kinds}


def build_samples(
    engine: Engine,
    photos: list[Photo],
    min_confidence: float,
    augment_copies: int,
    synthetic: bool,
    seed: int,
    kinds: tuple[str, ...] = ("trunk",),
    progress: Callable[[int], None] | None = None,
) -> list[Sample]:
    """Feature vectors of each photo's largest face, of its augmented copies, and of the
    synthetic coverings drawn on uncovered training faces."""
    samples = []
    for index, photo in enumerate(photos):
        rng = np.random.default_rng([seed, index])
        image = decode_image(photo.path.read_bytes(), max_side=DECODE_MAX_SIDE, formats=PHOTO_FORMATS)
        faces = [f for f in engine.analyze(image, min_confidence) if covering.is_classifiable(f)]
        face = largest(faces)
        if progress:
            progress(index)
        if face is None:
            continue
        samples.append(Sample(index, "original", _features(image, face, kinds), photo.targets))
        if photo.heldout:
            continue
        if photo.label == "none":  # every other face of an uncovered photo: bystanders, and what only looks like a face
            nothing = dict.fromkeys(covering.LABELS, 0)
            samples.extend(
                Sample(index, "other-face", _features(image, f, kinds), nothing) for f in faces if f is not face
            )
        for _ in range(augment_copies):
            copy, where = augment(image, face.box, rng)
            found = [
                f
                for f in engine.analyze(copy, min_confidence)
                if overlap(f.box, where) > 0.3 and covering.is_classifiable(f)
            ]
            best = largest(found)
            if best is not None:
                samples.append(Sample(index, "augmented", _features(copy, best, kinds), photo.targets))
        if synthetic and photo.label == "none" and len(face.landmarks) == 5:
            colour = masking.MASK_COLOURS[int(rng.integers(len(masking.MASK_COLOURS)))]
            drawn = masking.draw_synthetic_mask(image, face, colour)
            again = largest([f for f in engine.analyze(drawn, min_confidence) if overlap(f.box, face.box) > 0.3])
            if again is not None:
                targets = {name: int(name == "mask") for name in covering.LABELS}
                samples.append(Sample(index, "synthetic-mask", _features(drawn, again, kinds), targets))
    return samples


def _matrix(samples: list[Sample], kind: str) -> NDArray[np.float32]:
    return np.stack([s.features[kind] for s in samples]).astype(np.float32)


def _ridge(z: NDArray[np.float32], y: NDArray[np.float32], l2: float) -> tuple[NDArray[np.float64], float]:
    """Class-balanced ridge regression onto -1/+1 (closed form, so exactly reproducible)."""
    target = y * 2.0 - 1.0
    positives, negatives = max(float(y.sum()), 1.0), max(float(len(y) - y.sum()), 1.0)
    weight = np.where(y > 0, 0.5 / positives, 0.5 / negatives) * len(y)
    a = np.hstack([z, np.ones((len(z), 1), dtype=np.float32)]).astype(np.float64)
    gram = (a * weight[:, None]).T @ a + l2 * np.eye(a.shape[1])
    solution = np.linalg.solve(gram, (a * weight[:, None]).T @ target)
    return solution[:-1], float(solution[-1])


def _platt(raw: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float]:
    """Scale and offset that turn raw scores into probabilities (logistic fit by Newton steps)."""
    a, b = 1.0, 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(a * raw + b, -30, 30)))
        g = np.array([np.sum((p - y) * raw), np.sum(p - y)])
        h = p * (1 - p)
        hessian = np.array([[np.sum(h * raw * raw), np.sum(h * raw)], [np.sum(h * raw), np.sum(h)]]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hessian, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return float(a), float(b)


def _heads(
    samples: list[Sample], kind: str, l2: float
) -> tuple[NDArray[np.float32], NDArray[np.float32], list[tuple[NDArray[np.float64], float]]]:
    x = _matrix(samples, kind)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    z = (x - mean) / scale
    heads = []
    for label in covering.LABELS:
        y = np.array([s.targets[label] for s in samples], dtype=np.float32)
        keep = y != IGNORE
        heads.append(_ridge(z[keep], y[keep], l2))
    return mean, scale, heads


def _raw(
    samples: list[Sample],
    kind: str,
    mean: NDArray[np.float32],
    scale: NDArray[np.float32],
    heads: list[tuple[NDArray[np.float64], float]],
) -> NDArray[np.float64]:
    z = (_matrix(samples, kind) - mean) / scale
    return np.stack([z @ w + b for w, b in heads], axis=1)


def choose_thresholds(
    scores: NDArray[np.float64], samples: list[Sample], photos: list[Photo], target_false_rate: float
) -> NDArray[np.float32]:
    """Per label, the lowest threshold whose false-positive rate on the uncovered real photos
    (originals) stays within the target, but never under MIN_THRESHOLD."""
    uncovered = np.array([s.variant == "original" and photos[s.photo].label == "none" for s in samples], dtype=bool)
    thresholds = []
    for column in range(len(covering.LABELS)):
        negative = np.sort(scores[uncovered, column])[::-1]
        allowed = int(np.floor(target_false_rate * len(negative)))
        threshold = float(negative[allowed]) + 1e-4 if len(negative) > allowed else 0.5
        thresholds.append(max(MIN_THRESHOLD, min(threshold, 0.999)))
    return np.array(thresholds, dtype=np.float32)


def train(
    samples: list[Sample],
    photos: list[Photo],
    kind: str = "trunk",
    l2: float = 300.0,
    target_false_rate: float = 0.005,
) -> dict[str, Any]:
    """Heads fitted on every training sample; their calibration and thresholds from
    out-of-fold scores (each fold's photos scored by heads fitted without them)."""
    training = [s for s in samples if not photos[s.photo].heldout]
    out_of_fold = np.zeros((len(training), len(covering.LABELS)))
    for fold in sorted({photos[s.photo].fold for s in training}):
        inside = [s for s in training if photos[s.photo].fold != fold]
        outside = [i for i, s in enumerate(training) if photos[s.photo].fold == fold]
        if not inside or not outside:
            continue
        mean, scale, heads = _heads(inside, kind, l2)
        out_of_fold[outside] = _raw([training[i] for i in outside], kind, mean, scale, heads)
    mean, scale, heads = _heads(training, kind, l2)
    weights, bias, calibrated = [], [], np.zeros_like(out_of_fold)
    for column, label in enumerate(covering.LABELS):
        y = np.array([s.targets[label] for s in training], dtype=np.float64)
        keep = y != IGNORE
        a, b = _platt(out_of_fold[keep, column], y[keep])
        w, w0 = heads[column]
        weights.append(a * w)
        bias.append(a * w0 + b)
        calibrated[:, column] = 1.0 / (1.0 + np.exp(-np.clip(a * out_of_fold[:, column] + b, -30, 30)))
    return {
        "kind": np.array(kind),
        "labels": np.array(covering.LABELS),
        "mean": mean.astype(np.float32),
        "scale": scale.astype(np.float32),
        "weights": np.stack(weights, axis=1).astype(np.float32),
        "bias": np.array(bias, dtype=np.float32),
        "thresholds": choose_thresholds(calibrated, training, photos, target_false_rate),
    }


def write_heldout_csv(photos: list[Photo], path: Path) -> int:
    held = [p for p in photos if p.heldout and p.source not in UNCOVERED_SETS]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "label", "note"])
        for photo in held:
            writer.writerow([photo.name, photo.label, photo.note])
    return len(held)
