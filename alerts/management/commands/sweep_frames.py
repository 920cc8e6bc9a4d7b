import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bankwatch import jobs


class Command(BaseCommand):
    help = (
        "Purge the agreement's expired pending matches and coverings (a crashed worker's frames need no "
        "sweep: the broker delivers their jobs again). Celery beat runs it every BANKWATCH_FRAME_SWEEP_SECONDS; "
        "--every loops here."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0.0, help="repeat every N seconds (0: once)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            result = jobs.run("alerts.sweep_frames")
            jobs.wait_idle(300)
            self.stdout.write(json.dumps(result))
            if not options["every"]:
                return
            time.sleep(options["every"])
