import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition import covering, covering_training
from recognition.engine import get_engine


class Command(BaseCommand):
    help = (
        "Train the covering classifier (mask, helmet, sunglasses, hood) from covered-faces-dev and uncovered "
        "face sets, reproducibly; writes the small weights file (recognition/covering.npz by default)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, type=Path, help="the covered-faces-dev folder (labels.csv)")
        parser.add_argument(
            "--uncovered",
            type=Path,
            action="append",
            help="a face set whose photos are uncovered (repeatable; default: the folders "
            f"{', '.join(covering_training.UNCOVERED_SETS)} beside --data, where present)",
        )
        parser.add_argument("--out", type=Path, default=covering.WEIGHTS_FILE)
        parser.add_argument("--features", default="trunk", help="trunk, embedding, head, or parts joined by +")
        parser.add_argument("--augment", type=int, default=2, help="augmented copies of each training photo")
        parser.add_argument("--no-synthetic", action="store_true", help="no drawn masks on uncovered faces")
        parser.add_argument("--heldout-fold", type=int, default=0, help="quarter held out (0-3; -1 holds out none)")
        parser.add_argument("--heldout-csv", type=Path, help="write the held-out covered-faces-dev photos here")
        parser.add_argument("--exclude-source", action="append", default=[], help="leave a whole source out")
        parser.add_argument("--limit", type=int, default=0, help="at most this many photos per label and face set")
        parser.add_argument("--l2", type=float, default=300.0)
        parser.add_argument("--target-false-rate", type=float, default=0.005)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        data: Path = options["data"]
        if not (data / "labels.csv").is_file():
            raise CommandError(f"no labels.csv in {data}")
        fold = options["heldout_fold"] if options["heldout_fold"] >= 0 else None
        corrections = covering_training.read_corrections()
        photos = covering_training.covered_photos(data, corrections, fold)
        sets = options["uncovered"] or [
            data.parent / name for name in covering_training.UNCOVERED_SETS if (data.parent / name).is_dir()
        ]
        for folder in sets:
            if not folder.is_dir():
                raise CommandError(f"no such folder: {folder}")
            photos += covering_training.uncovered_photos(folder, corrections, fold)
        photos = [p for p in photos if p.source not in set(options["exclude_source"])]
        if options["limit"]:
            taken: Counter[tuple[str, str]] = Counter()
            kept = []
            for photo in photos:
                key = (photo.label, photo.source if photo.source in covering_training.UNCOVERED_SETS else "")
                if taken[key] < options["limit"]:
                    taken[key] += 1
                    kept.append(photo)
            photos = kept
        started = time.process_time()
        kinds = tuple(dict.fromkeys(options["features"].split("+")))
        samples = covering_training.build_samples(
            get_engine(),
            photos,
            covering.min_detector_confidence(),
            options["augment"],
            not options["no_synthetic"],
            options["seed"],
            kinds,
        )
        for sample in samples:
            sample.features[options["features"]] = np.concatenate([sample.features[k] for k in kinds])
        arrays = covering_training.train(
            samples, photos, options["features"], options["l2"], options["target_false_rate"]
        )
        out: Path = options["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out, **arrays)
        covering.get_model.cache_clear()
        summary: dict[str, Any] = {
            "photos": len(photos),
            "training_photos": sum(not p.heldout for p in photos),
            "samples": dict(Counter(s.variant for s in samples if not photos[s.photo].heldout)),
            "features": options["features"],
            "thresholds": {
                label: round(float(t), 4) for label, t in zip(covering.LABELS, arrays["thresholds"], strict=True)
            },
            "out": str(out),
            "bytes": out.stat().st_size,
            "cpu_seconds": round(time.process_time() - started, 1),
        }
        if options["heldout_csv"]:
            summary["heldout"] = covering_training.write_heldout_csv(photos, options["heldout_csv"])
            summary["heldout_csv"] = str(options["heldout_csv"])
        self.stdout.write(json.dumps(summary))
