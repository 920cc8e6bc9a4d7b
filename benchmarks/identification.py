"""Identifying probe photos against the watchlist three ways, on the same photos and core.

- BankWatch: decode at the detector's size, YuNet + five-point alignment + SFace
  (recognition.engine), cosine search of the watchlist templates at the shipped threshold.
- DeepFace.find, as DeepFace's README shows it: a folder holding the watchlist photos,
  model SFace, detector YuNet (the same weights), DeepFace's own threshold.
- The face_recognition library's usual approach (its README): load_image_file,
  face_encodings (HOG detector, dlib ResNet), compare with face_distance at tolerance 0.6.

A probe counts as right when the best match above threshold is the person it shows, or
when nothing matches and the person is not listed. Time per probe covers reading the
file to the decision; the gallery is built before timing starts (timed separately).
"""

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from benchmarks import cpu
from benchmarks.dataset import identification_set
from recognition.engine import get_engine
from recognition.images import PHOTO_FORMATS, decode_image

ENROLL_MAX_SIDE = 1280  # reference photos are decoded larger than frames (enrollment.actions)


@dataclass
class PlainGallery:
    """The watchlist's templates as one matrix: exact cosine search, as enrollment.gallery does."""

    people: list[int]
    matrix: NDArray[np.float32]
    threshold: float

    @classmethod
    def of(cls, dataset: Path) -> "PlainGallery":
        engine = get_engine()
        ident = identification_set(dataset)
        rows = []
        for person in sorted(ident.gallery):
            image = decode_image((dataset / ident.gallery[person]).read_bytes(), ENROLL_MAX_SIDE, PHOTO_FORMATS)
            rows.append(engine.analyze(image)[0].embedding)
        return cls(sorted(ident.gallery), np.stack(rows).astype(np.float32), settings.RECOGNITION_THRESHOLD)

    def search(self, probes: NDArray[np.float32]) -> list[tuple[int, float] | None]:
        if not len(probes):
            return []
        scores = probes @ self.matrix.T
        best = scores.argmax(axis=1)
        return [
            (self.people[b], float(s[b])) if s[b] >= self.threshold else None for b, s in zip(best, scores, strict=True)
        ]


def _verdict(
    truth: dict[str, int | None], said: dict[str, int | None], times: list[float], cpu_seconds: float
) -> dict[str, Any]:
    wrong = sorted(name for name in truth if said[name] != truth[name])
    return {
        "probes": len(truth),
        "correct": len(truth) - len(wrong),
        "accuracy": round((len(truth) - len(wrong)) / len(truth), 4),
        "wrong": wrong,
        "seconds_per_probe": round(float(np.mean(times)), 4),
        # CPU time of the process (all its threads) per probe: robust to other programs on the machine.
        "cpu_seconds_per_probe": round(cpu_seconds / len(truth), 4),
        **cpu.summary_ms(times),
    }


def bankwatch(dataset: str, max_probes: int = 0) -> dict[str, Any]:
    folder = Path(dataset)
    ident = identification_set(folder, max_probes=max_probes)
    started = time.perf_counter()
    engine = get_engine()
    gallery = PlainGallery.of(folder)
    gallery_seconds = time.perf_counter() - started
    side = settings.RECOGNITION_DETECT_MAX_SIDE
    said: dict[str, int | None] = {}
    times = []
    cpu_started = time.process_time()
    for name in ident.probes:
        started = time.perf_counter()
        faces = engine.analyze(decode_image((folder / name).read_bytes(), side, PHOTO_FORMATS))
        hits = [
            hit
            for hit in gallery.search(
                np.stack([f.embedding for f in faces]) if faces else np.zeros((0, 128), np.float32)
            )
            if hit
        ]
        said[name] = max(hits, key=lambda hit: hit[1])[0] if hits else None
        times.append(time.perf_counter() - started)
    return {
        **_verdict(ident.probes, said, times, time.process_time() - cpu_started),
        "gallery_seconds": round(gallery_seconds, 3),
        "threshold": f"cosine similarity >= {settings.RECOGNITION_THRESHOLD}",
    }


def deepface_find(dataset: str, max_probes: int = 0) -> dict[str, Any]:
    from deepface import DeepFace

    folder = Path(dataset)
    ident = identification_set(folder, max_probes=max_probes)
    person_of = {name: person for person, name in ident.gallery.items()}
    with tempfile.TemporaryDirectory(prefix="bench-find-") as db:
        for name in ident.gallery.values():
            shutil.copy(folder / name, Path(db) / name)
        options = {"db_path": db, "model_name": "SFace", "detector_backend": "yunet", "silent": True}
        started = time.perf_counter()  # the first call embeds the folder into a pickle: the gallery
        DeepFace.find(img_path=str(folder / ident.gallery[min(ident.gallery)]), **options)
        gallery_seconds = time.perf_counter() - started
        said: dict[str, int | None] = {}
        times = []
        thresholds = set()
        cpu_started = time.process_time()
        for name in ident.probes:
            started = time.perf_counter()
            try:
                frames = DeepFace.find(img_path=str(folder / name), **options)
            except ValueError:  # enforce_detection: no face found
                frames = []
            best = None
            for frame in frames:
                for _, row in frame.iterrows():
                    thresholds.add(round(float(row["threshold"]), 4))
                    if best is None or row["distance"] < best[1]:
                        best = (person_of[Path(row["identity"]).name], float(row["distance"]))
            said[name] = best[0] if best else None
            times.append(time.perf_counter() - started)
    return {
        **_verdict(ident.probes, said, times, time.process_time() - cpu_started),
        "gallery_seconds": round(gallery_seconds, 3),
        "threshold": f"cosine distance <= {sorted(thresholds)} (DeepFace's default for SFace)",
    }


def face_recognition_library(dataset: str, max_probes: int = 0) -> dict[str, Any]:
    import face_recognition

    folder = Path(dataset)
    ident = identification_set(folder, max_probes=max_probes)
    started = time.perf_counter()
    people = sorted(ident.gallery)
    known = [
        face_recognition.face_encodings(face_recognition.load_image_file(folder / ident.gallery[p]))[0] for p in people
    ]
    gallery_seconds = time.perf_counter() - started
    said: dict[str, int | None] = {}
    times = []
    cpu_started = time.process_time()
    for name in ident.probes:
        started = time.perf_counter()
        image = face_recognition.load_image_file(folder / name)
        best = None
        for encoding in face_recognition.face_encodings(image):
            distances = face_recognition.face_distance(known, encoding)
            i = int(np.argmin(distances))
            if distances[i] <= 0.6 and (best is None or distances[i] < best[1]):
                best = (people[i], float(distances[i]))
        said[name] = best[0] if best else None
        times.append(time.perf_counter() - started)
    return {
        **_verdict(ident.probes, said, times, time.process_time() - cpu_started),
        "gallery_seconds": round(gallery_seconds, 3),
        "threshold": "euclidean distance <= 0.6 (the library's default tolerance)",
    }
