"""`evaluate_covering`: precision and recall of covering detection on labelled photos.

Each photo counts once. Its predicted labels are those of every face the covering step
classifies in it (`covering.covering_faces`): a photo is "covered" when any face is. A
photo where no face is found is a miss for its covered label (and not a false alarm for an
uncovered one). A label's precision counts a prediction as right when the photo's label is
that one, or when the CSV's optional `note` column says "also <label>" (a masked face in
sunglasses is labelled mask, "also sunglasses"); recall counts only photos whose label it is.
"""

import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recognition import covering
from recognition.engine import Engine
from recognition.images import PHOTO_FORMATS, decode_image

VALID_LABELS = (*covering.LABELS, "none")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
DECODE_MAX_SIDE = 1280


@dataclass(frozen=True)
class Labelled:
    file: str
    label: str
    also: frozenset[str] = frozenset()


class LabelError(ValueError):
    pass


def _also(note: str) -> frozenset[str]:
    parts = [p.strip().lower() for p in note.split(";")]
    return frozenset(label for label in covering.LABELS for p in parts if p.startswith(f"also {label}"))


def read_labels(images_dir: Path, labels_csv: Path | None) -> list[Labelled]:
    """The CSV's `file,label[,…,note]` rows, or every image under a folder named for its label."""
    if labels_csv is None:
        return [
            Labelled(path.relative_to(images_dir).as_posix(), label)
            for label in VALID_LABELS
            if (images_dir / label).is_dir()
            for path in sorted((images_dir / label).rglob("*"))
            if path.suffix.lower() in IMAGE_SUFFIXES
        ]
    items = []
    with labels_csv.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"file", "label"} <= set(reader.fieldnames):
            raise LabelError(f"{labels_csv} needs the columns file,label")
        for line, row in enumerate(reader, start=2):
            label = (row["label"] or "").strip()
            if label not in VALID_LABELS:
                raise LabelError(f"{labels_csv}:{line}: label {label!r} is not one of {', '.join(VALID_LABELS)}")
            items.append(Labelled((row["file"] or "").strip(), label, _also(row.get("note") or "")))
    return items


def _ratio(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


def evaluate(engine: Engine, images_dir: Path, items: list[Labelled]) -> dict[str, Any]:
    predictions: list[set[str]] = []
    faces_found = 0
    cpu_seconds = 0.0
    for item in items:
        image = decode_image((images_dir / item.file).read_bytes(), max_side=DECODE_MAX_SIDE, formats=PHOTO_FORMATS)
        faces = covering.covering_faces(engine, image)
        started = time.process_time()
        results = covering.classify_faces(image, faces)
        cpu_seconds += time.process_time() - started
        faces_found += len(faces)
        predictions.append({label for result in results for label in result.labels})
    covered = [item.label != "none" for item in items]
    flagged = [bool(p) for p in predictions]
    per_label = {}
    for label in covering.LABELS:
        n = sum(item.label == label for item in items)
        predicted = [i for i, p in enumerate(predictions) if label in p]
        right = sum(items[i].label == label or label in items[i].also for i in predicted)
        found = sum(items[i].label == label for i in predicted)
        per_label[label] = {"n": n, "precision": _ratio(right, len(predicted)), "recall": _ratio(found, n)}
    return {
        "images": len(items),
        "faces_found": faces_found,
        "covered_precision": _ratio(sum(f and c for f, c in zip(flagged, covered, strict=True)), sum(flagged)),
        "covered_recall": _ratio(sum(f and c for f, c in zip(flagged, covered, strict=True)), sum(covered)),
        "uncovered_false_rate": _ratio(
            sum(f and not c for f, c in zip(flagged, covered, strict=True)), sum(not c for c in covered)
        ),
        "per_label": per_label,
        "ms_per_face": round(cpu_seconds * 1000 / faces_found, 3) if faces_found else 0.0,
    }
