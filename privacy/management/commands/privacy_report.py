import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from privacy.actions import FORMATS, produce_report


class Command(BaseCommand):
    help = "Write the data protection impact assessment, generated from the live system, to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=FORMATS, default="pdf")
        parser.add_argument("--out", required=True, help="file to write")
        parser.add_argument("--language", choices=[code for code, _ in settings.LANGUAGES], default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            row, content = produce_report(options["format"], language=options["language"])
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        out = Path(options["out"])
        out.write_bytes(content)
        self.stdout.write(
            json.dumps(
                {
                    "out": str(out),
                    "subjects": row.figures["subjects"],
                    "templates": row.figures["templates"],
                    "alerts": row.figures["alerts"],
                    "produced_at": row.produced_at.isoformat(),
                }
            )
        )
