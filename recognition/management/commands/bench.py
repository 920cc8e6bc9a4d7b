import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks import report, runner

DEFAULT_DATASET = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "deepface-unit"


class Command(BaseCommand):
    help = (
        "Benchmarks BankWatch against DeepFace.find and face_recognition (benchmarks/runner.py); "
        "writes docs/benchmarks.md and .png."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="the deepface-unit photo folder")
        parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that every part runs")
        parser.add_argument("--docs", type=Path, default=Path(settings.BASE_DIR) / "docs", help="where to write")
        parser.add_argument("--no-docs", action="store_true", help="print the JSON only")
        parser.add_argument(
            "--sections",
            default=",".join(runner.SECTIONS),
            help=f"comma-separated subset of {','.join(runner.SECTIONS)}",
        )
        parser.add_argument(
            "--cache", type=Path, default=Path(settings.DATA_DIR) / "bench-cache", help="built search indexes"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dataset: Path = options["dataset"].resolve()
        if not (dataset / "master.csv").exists():
            raise CommandError(f"no deepface-unit photos at {dataset}")
        sections = tuple(name for name in options["sections"].split(",") if name)
        unknown = sorted(set(sections) - set(runner.SECTIONS))
        if unknown:
            raise CommandError(f"unknown sections {unknown}; choose from {runner.SECTIONS}")
        results = runner.run_all(
            dataset, options["quick"], options["cache"], lambda line: self.stderr.write(line), sections
        )
        if not options["no_docs"]:
            report.write(results, options["docs"], sections)
        self.stdout.write(json.dumps(results))
