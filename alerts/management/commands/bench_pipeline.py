import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks import pipeline


class Command(BaseCommand):
    help = (
        "Measure recognition throughput per worker process and POST-to-alert-event latency "
        "(embedded mode, scratch database): benchmarks/pipeline.py."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--frames", type=int, default=30, help="frames timed per kind")
        parser.add_argument("--pairs", type=int, default=20, help="alerts raised for the latency figures")
        parser.add_argument("--cores", type=int, default=1, help="pin this process to N cores (0: all)")
        parser.add_argument("--dataset", default=str(Path(settings.BASE_DIR).parent / "shared/datasets/deepface-unit"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            results = pipeline.run(Path(options["dataset"]), options["frames"], options["pairs"], options["cores"])
        except (FileNotFoundError, RuntimeError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(results))
