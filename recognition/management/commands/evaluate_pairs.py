import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition import evaluation
from recognition.degrade import DEGRADATIONS
from recognition.engine import get_engine


class Command(BaseCommand):
    help = (
        "The live pipeline's decision on labelled photo pairs: accuracy, TAR and FAR at the shipped "
        "threshold (never tuned on the file) and TAR at FAR 0.001, 0.002 and 0.01."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pairs", required=True, type=Path)
        parser.add_argument("--images", type=Path, help="folder the CSV's paths are relative to (default: its folder)")
        parser.add_argument(
            "--degrade",
            choices=sorted(DEGRADATIONS),
            default="",
            help="judge a degraded copy of each second photo (recognition/degrade.py)",
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the degraded copies")
        parser.add_argument("--scores-out", type=Path, help="write file_x,file_y,decision,score for every pair")
        parser.add_argument("--calibrate", action="store_true", help="also print the best threshold and ROC points")

    def handle(self, *args: Any, **options: Any) -> None:
        pairs_path: Path = options["pairs"]
        if not pairs_path.is_file():
            raise CommandError(f"no such file: {pairs_path}")
        images_dir: Path = options["images"] or pairs_path.parent
        pairs = evaluation.read_pairs(pairs_path)
        if not pairs:
            raise CommandError(f"no pairs in {pairs_path}")
        names = {p.left for p in pairs} | {p.right for p in pairs}
        absent = sorted(n for n in names if not evaluation.resolve(images_dir, n).is_file())
        if absent:
            raise CommandError(f"{len(absent)} images missing from {images_dir}, e.g. {absent[:3]}")
        engine = get_engine()
        evaluator = evaluation.Evaluator(engine, images_dir, options["degrade"], options["seed"])
        scores = np.array([evaluator.score(p) for p in pairs])
        labels = np.array([p.same for p in pairs], dtype=bool)
        threshold = settings.RECOGNITION_THRESHOLD
        result: dict[str, Any] = {
            "model": engine.model_name,
            "detector": engine.detector,
            "degrade": options["degrade"] or "none",
            "pairs": len(pairs),
            "evaluated": int((scores > evaluation.NO_FACE).sum()),
            "threshold": threshold,
            **evaluation.summary(scores, labels, threshold),
            "cpu_ms_per_reference": round(
                1000 * evaluator.seconds["reference"] / max(len(evaluator._references), 1), 1
            ),
            "cpu_ms_per_probe": round(1000 * evaluator.seconds["probe"] / max(len(evaluator._probes), 1), 1),
        }
        kinds = evaluation.read_kinds(images_dir)
        if kinds:
            result["per_kind"] = evaluation.per_kind(pairs, scores, labels, kinds, threshold)
        if options["calibrate"]:
            best, points = evaluation.roc(scores, labels)
            result["best_threshold"] = round(best, 4)
            result["best_accuracy"] = evaluation.metrics(scores, labels, best)["accuracy"]
            result["roc"] = points
        if options["scores_out"]:
            with Path(options["scores_out"]).open("w", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(["file_x", "file_y", "decision", "score"])
                for pair, score in zip(pairs, scores, strict=True):
                    writer.writerow([pair.left, pair.right, "Yes" if pair.same else "No", f"{score:.5f}"])
        self.stdout.write(json.dumps(result))
