import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition import calibration, evaluation
from recognition.engine import get_engine


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise CommandError(f"--gallery-sizes takes whole numbers separated by commas, not {text!r}") from None
    if not sizes or sizes[0] < 1:
        raise CommandError("--gallery-sizes needs at least one size of 1 or more")
    return sizes


class Command(BaseCommand):
    help = (
        "Open-set calibration from labelled photos: a DET plot, FNIR at FPIR 0.001 and 0.003 and the advised "
        "threshold per watchlist size (recognition/calibration.py)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pairs", required=True, type=Path)
        parser.add_argument("--images", type=Path, help="folder the CSV's paths are relative to (default: its folder)")
        parser.add_argument("--gallery-sizes", default="100,1000,10000")
        parser.add_argument("--target-fpir", type=float, default=0.001, help="false-alert rate the advice aims at")
        parser.add_argument("--out", required=True, type=Path, help="folder for det.png and calibration.json")

    def handle(self, *args: Any, **options: Any) -> None:
        pairs_path: Path = options["pairs"]
        if not pairs_path.is_file():
            raise CommandError(f"no such file: {pairs_path}")
        target = options["target_fpir"]
        if not 0 < target < 1:
            raise CommandError("--target-fpir must be between 0 and 1")
        sizes = _sizes(options["gallery_sizes"])
        images_dir: Path = options["images"] or pairs_path.parent
        pairs = evaluation.read_pairs(pairs_path)
        people = calibration.identities(images_dir, pairs)
        absent = sorted(n for n in people if not evaluation.resolve(images_dir, n).is_file())
        if absent:
            raise CommandError(f"{len(absent)} images missing from {images_dir}, e.g. {absent[:3]}")
        if len(set(people.values())) < 3:
            raise CommandError("calibration needs photos of at least 3 people")
        engine = get_engine()
        evaluator = evaluation.Evaluator(engine, images_dir)
        result = calibration.report(calibration.searches(evaluator, people), sizes, target)
        curves = result.pop("_curves")
        result = {
            "model_id": engine.model_id,
            "pairs_file": pairs_path.name,
            "identities": len(set(people.values())),
            "photos": len(people),
            "shipped_threshold": settings.RECOGNITION_THRESHOLD,
            **result,
        }
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        (out / "calibration.json").write_text(json.dumps(result, indent=1) + "\n")
        calibration.plot_det(
            curves, out / "det.png", f"{engine.model_id} on {pairs_path.parent.name}/{pairs_path.name}"
        )
        self.stdout.write(json.dumps(result))
