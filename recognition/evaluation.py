"""Pair evaluation of the production pipeline on labelled photo pairs."""

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from recognition.engine import Engine
from recognition.images import PHOTO_FORMATS, decode_image

DECODE_MAX_SIDE = 1280


@dataclass
class Pair:
    left: str
    right: str
    same: bool


def read_pairs(csv_path: Path) -> list[Pair]:
    """Reads master.csv (file_x,file_y,Decision) and pivot files (paths stripped to names)."""
    pairs = []
    with csv_path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            lowered = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            decision = lowered.get("decision", "").lower()
            pairs.append(
                Pair(
                    Path(lowered["file_x"]).name, Path(lowered["file_y"]).name, decision in {"yes", "1", "true", "same"}
                )
            )
    return pairs


def embed_files(
    engine: Engine, images_dir: Path, names: set[str]
) -> tuple[dict[str, NDArray[np.float32] | None], float]:
    """Embedding of the largest face in each image (None when no face); and ms per image."""
    embeddings: dict[str, NDArray[np.float32] | None] = {}
    started = time.perf_counter()
    for name in sorted(names):
        pixels = decode_image((images_dir / name).read_bytes(), max_side=DECODE_MAX_SIDE, formats=PHOTO_FORMATS)
        faces = engine.analyze(pixels)
        embeddings[name] = faces[0].embedding if faces else None
    ms = (time.perf_counter() - started) * 1000 / max(len(names), 1)
    return embeddings, ms


def score_pairs(
    pairs: list[Pair], embeddings: dict[str, NDArray[np.float32] | None]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    scores, labels = [], []
    for pair in pairs:
        left, right = embeddings.get(pair.left), embeddings.get(pair.right)
        # A pair with a photo where no face was found counts as "not the same".
        scores.append(float(np.dot(left, right)) if left is not None and right is not None else -1.0)
        labels.append(pair.same)
    return np.array(scores), np.array(labels, dtype=bool)


def metrics(scores: NDArray[np.float64], labels: NDArray[np.bool_], threshold: float) -> dict[str, float]:
    predicted = scores >= threshold
    same, different = labels.sum(), (~labels).sum()
    return {
        "accuracy": round(float((predicted == labels).mean()), 4),
        "tar": round(float((predicted & labels).sum() / same), 4) if same else 0.0,
        "far": round(float((predicted & ~labels).sum() / different), 4) if different else 0.0,
    }


def roc(scores: NDArray[np.float64], labels: NDArray[np.bool_]) -> tuple[float, list[dict[str, float]]]:
    """Best-accuracy threshold on this file (optimistic, for reference only) and ROC points."""
    ordered = np.unique(scores)
    candidates = (ordered[:-1] + ordered[1:]) / 2 if len(ordered) > 1 else ordered
    best = max(candidates, key=lambda t: ((scores >= t) == labels).mean())
    points = [
        {"threshold": round(float(t), 4), **metrics(scores, labels, float(t))}
        for t in candidates[:: max(1, len(candidates) // 40)]
    ]
    return float(best), points
