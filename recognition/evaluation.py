"""Pair evaluation of the live decision on labelled photo pairs (`manage.py evaluate_pairs`).

For each pair, the first photo is enrolled as enrollment makes a template (its largest face,
recognition.decision.reference_face) and the second is judged as a camera frame is
(recognition.decision.probe_faces, its best usable face against that template), so the
figures are those of the pipeline itself. `degrade` turns each second photo into a copy as a
branch camera would give it (recognition/degrade.py) before it goes through the frame path.
"""

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from recognition import decision
from recognition.covering import classify_faces
from recognition.degrade import degraded, rng_for
from recognition.engine import Engine
from recognition.images import PHOTO_FORMATS, decode_image
from recognition.masking import masked_embedding

FAR_POINTS = (0.001, 0.002, 0.01)
NO_FACE = -1.0  # the score of a pair whose second photo has no usable face: never a match


@dataclass
class Pair:
    left: str
    right: str
    same: bool


def read_pairs(csv_path: Path) -> list[Pair]:
    """Rows of file_x,file_y,decision (any case; Yes/No, 1/0, true/false, same), paths as written."""
    pairs = []
    with csv_path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            lowered = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            decision_text = lowered.get("decision", "").lower()
            pairs.append(Pair(lowered["file_x"], lowered["file_y"], decision_text in {"yes", "1", "true", "same"}))
    return pairs


def resolve(images_dir: Path, name: str) -> Path:
    """The photo a CSV path names: relative to the images folder (subfolders included), else its
    bare file name there (deepface's pivot file lists paths of another machine)."""
    relative = images_dir / name
    return relative if relative.is_file() else images_dir / Path(name).name


def read_kinds(images_dir: Path) -> dict[str, str]:
    """Photo kind per file from the dataset's labels.csv: its `kind` column, else `repo` (source)."""
    labels = images_dir / "labels.csv"
    if not labels.is_file():
        return {}
    with labels.open(newline="") as fh:
        return {row["file"]: row.get("kind") or row.get("repo") or "" for row in csv.DictReader(fh)}


@dataclass
class Evaluator:
    engine: Engine
    images_dir: Path
    degrade: str = ""
    seed: int = 0
    _references: dict[str, NDArray[np.float32] | None] = field(default_factory=dict)
    _masked_references: dict[str, NDArray[np.float32] | None] = field(default_factory=dict)
    _probes: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    _masked_probes: dict[str, NDArray[np.bool_]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=lambda: {"reference": 0.0, "probe": 0.0})

    def _photo(self, name: str) -> NDArray[np.uint8]:
        data = resolve(self.images_dir, name).read_bytes()
        return decode_image(data, max_side=decision.PHOTO_MAX_SIDE, formats=PHOTO_FORMATS)

    def reference(self, name: str) -> NDArray[np.float32] | None:
        if name not in self._references:
            started = time.process_time()
            image = self._photo(name)
            face = decision.reference_face(self.engine, image)
            self._references[name] = decision.template_embedding(self.engine, face) if face is not None else None
            # Enrollment's second template, behind a synthetic mask, which only masked probes see.
            masked = (
                masked_embedding(self.engine, image, face) if face is not None and settings.MASKED_TEMPLATES else None
            )
            self._masked_references[name] = masked
            self.seconds["reference"] += time.process_time() - started
        return self._references[name]

    def probe(self, name: str) -> NDArray[np.float32]:
        """Embeddings (rows) of the usable faces of the photo seen as a camera frame."""
        if name not in self._probes:
            if self.degrade:
                data = degraded(self.engine, self._photo(name), self.degrade, rng_for(name, self.seed))
            else:
                data = resolve(self.images_dir, name).read_bytes()
            started = time.process_time()
            embeddings = np.zeros((0, 1), dtype=np.float32)
            masked = np.zeros(0, dtype=bool)
            if data is not None:
                image = decision.decode_frame(data, PHOTO_FORMATS, settings.MAX_IMAGE_PIXELS)
                faces, usable = decision.probe_faces(self.engine, image)
                if usable:
                    embeddings = np.stack([faces[i].embedding for i in usable])
                    # The covering step's verdict, as alerts.pipeline asks it for each probe.
                    coverings = classify_faces(image, faces)
                    masked = np.array(["mask" in coverings[i].labels for i in usable], dtype=bool)
            self.seconds["probe"] += time.process_time() - started
            self._probes[name] = embeddings
            self._masked_probes[name] = masked
        return self._probes[name]

    def score(self, pair: Pair) -> float:
        """The score the live decision compares with the threshold: the second photo's best
        usable face against the first photo's template, by enrollment.gallery.search's rule: a
        face the covering step finds masked is also compared with the masked template and needs
        BANKWATCH_COVERED_THRESHOLD_MARGIN more, here taken off its score so that every score
        meets the one threshold."""
        template, probes = self.reference(pair.left), self.probe(pair.right)
        if template is None or len(probes) == 0:
            return NO_FACE
        scores = probes @ template
        masked = self._masked_probes[pair.right]
        if masked.any():
            masked_template = self._masked_references.get(pair.left)
            if masked_template is not None:
                scores = np.where(masked, np.maximum(scores, probes @ masked_template), scores)
            scores = np.where(masked, scores - settings.COVERED_THRESHOLD_MARGIN, scores)
        return float(np.max(scores))


def metrics(scores: NDArray[np.float64], labels: NDArray[np.bool_], threshold: float) -> dict[str, Any]:
    predicted = scores >= threshold
    same, different = int(labels.sum()), int((~labels).sum())
    return {
        "same": same,
        "different": different,
        "accuracy": round(float((predicted == labels).mean()), 4) if len(labels) else 0.0,
        "tar": round(float((predicted & labels).sum() / same), 4) if same else None,
        "far": round(float((predicted & ~labels).sum() / different), 4) if different else None,
        "false_accepts": int((predicted & ~labels).sum()),
    }


def tar_at_far(scores: NDArray[np.float64], labels: NDArray[np.bool_], far: float) -> tuple[float, float]:
    """TAR at the strictest operating point that accepts at most `far` of the different-person
    pairs (a score must beat the returned threshold), and that threshold."""
    impostors = np.sort(scores[~labels])[::-1]
    allowed = int(np.floor(far * len(impostors) + 1e-9))
    threshold = float(impostors[allowed]) if allowed < len(impostors) else -np.inf
    genuine = scores[labels]
    return (float((genuine > threshold).mean()) if len(genuine) else 0.0), threshold


def summary(scores: NDArray[np.float64], labels: NDArray[np.bool_], threshold: float) -> dict[str, Any]:
    result = metrics(scores, labels, threshold)
    for far in FAR_POINTS:
        tar, at = tar_at_far(scores, labels, far)
        result[f"tar_at_far_{far:g}"] = round(tar, 4)
        result[f"threshold_at_far_{far:g}"] = round(at, 4)
    return result


def pair_kind(pair: Pair, kinds: dict[str, str]) -> str:
    left, right = kinds.get(pair.left, "?"), kinds.get(pair.right, "?")
    return left if left == right else "cross-kind"


def per_kind(
    pairs: list[Pair], scores: NDArray[np.float64], labels: NDArray[np.bool_], kinds: dict[str, str], threshold: float
) -> dict[str, dict[str, Any]]:
    groups = np.array([pair_kind(p, kinds) for p in pairs])
    return {kind: metrics(scores[groups == kind], labels[groups == kind], threshold) for kind in sorted(set(groups))}


def roc(scores: NDArray[np.float64], labels: NDArray[np.bool_]) -> tuple[float, list[dict[str, Any]]]:
    """Best-accuracy threshold on this file (optimistic, for reference only) and ROC points."""
    ordered = np.unique(scores)
    candidates = (ordered[:-1] + ordered[1:]) / 2 if len(ordered) > 1 else ordered
    best = max(candidates, key=lambda t: ((scores >= t) == labels).mean())
    points = [
        {"threshold": round(float(t), 4), **metrics(scores, labels, float(t))}
        for t in candidates[:: max(1, len(candidates) // 40)]
    ]
    return float(best), points
