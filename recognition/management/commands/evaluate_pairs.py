import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition import evaluation
from recognition.engine import get_engine


class Command(BaseCommand):
    help = "Pair accuracy of the production pipeline at the shipped threshold (never tuned on the file)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pairs", required=True, type=Path)
        parser.add_argument("--images", type=Path, help="folder of the photos (default: the CSV's folder)")
        parser.add_argument("--calibrate", action="store_true", help="also print the best threshold and ROC points")

    def handle(self, *args: Any, **options: Any) -> None:
        pairs_path: Path = options["pairs"]
        if not pairs_path.exists():
            raise CommandError(f"no such file: {pairs_path}")
        images_dir: Path = options["images"] or pairs_path.parent
        pairs = evaluation.read_pairs(pairs_path)
        names = {p.left for p in pairs} | {p.right for p in pairs}
        absent = sorted(n for n in names if not (images_dir / n).exists())
        if absent:
            raise CommandError(f"{len(absent)} images missing from {images_dir}, e.g. {absent[:3]}")
        engine = get_engine()
        embeddings, ms = evaluation.embed_files(engine, images_dir, names)
        scores, labels = evaluation.score_pairs(pairs, embeddings)
        threshold = settings.RECOGNITION_THRESHOLD
        result: dict[str, Any] = {
            "model": engine.model_name,
            "detector": engine.detector,
            "pairs": len(pairs),
            "evaluated": int(
                sum(1 for p in pairs if embeddings[p.left] is not None and embeddings[p.right] is not None)
            ),
            "threshold": threshold,
            **evaluation.metrics(scores, labels, threshold),
            "ms_per_image": round(ms, 1),
        }
        if options["calibrate"]:
            best, points = evaluation.roc(scores, labels)
            result["best_threshold"] = round(best, 4)
            result["best_accuracy"] = evaluation.metrics(scores, labels, best)["accuracy"]
            result["roc"] = points
        self.stdout.write(json.dumps(result))
