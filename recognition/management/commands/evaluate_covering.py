import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition import covering_evaluation
from recognition.engine import get_engine


class Command(BaseCommand):
    help = (
        "Covering detection (mask, helmet, sunglasses, hood) on labelled photos: prints one JSON line, "
        "images, faces_found, covered precision/recall, uncovered false rate, per-label n/precision/recall, ms per face."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--images", required=True, type=Path, help="folder of photos (subfolders named for labels)")
        parser.add_argument(
            "--labels", type=Path, help="CSV with columns file,label (file relative to --images; optional note)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        images: Path = options["images"]
        labels: Path | None = options["labels"]
        if not images.is_dir():
            raise CommandError(f"no such folder: {images}")
        if labels is not None and not labels.is_file():
            raise CommandError(f"no such file: {labels}")
        try:
            items = covering_evaluation.read_labels(images, labels)
        except covering_evaluation.LabelError as exc:
            raise CommandError(str(exc)) from None
        if not items:
            raise CommandError(f"no labelled photos in {images} (folders mask, helmet, sunglasses, hood, none)")
        absent = [item.file for item in items if not (images / item.file).is_file()]
        if absent:
            raise CommandError(f"{len(absent)} photos missing from {images}, e.g. {absent[:3]}")
        result = covering_evaluation.evaluate(get_engine(), images, items)
        self.stdout.write(json.dumps(result))
