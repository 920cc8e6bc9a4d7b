import json
import logging
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cameras.supervisor import Supervisor


class Command(BaseCommand):
    help = (
        "Read every enabled pulled camera (RTSP, MJPEG, snapshot) and feed the frame pipeline. Run one or more "
        "per deployment, on any machines: cameras are shared between them through leases in the database, "
        "and a dead supervisor's cameras are taken over within about 20 s. Runs until stopped (SIGTERM, Ctrl-C); "
        'then prints {"supervisor", "cameras": {id: {"stored", "skipped", "decoded", "errors"}}}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--max-seconds", type=float, default=0.0, help="stop after this long (0: never)")
        parser.add_argument(
            "--fast-decode", action="store_true", help="skip decoding frames no other frame refers to (B-frames)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        supervisor = Supervisor(fast_decode=options["fast_decode"])
        signal.signal(signal.SIGTERM, lambda *_: supervisor.stopping.set())
        self.stderr.write(f"supervisor {supervisor.name} started")
        try:
            supervisor.run(max_seconds=options["max_seconds"])
        except KeyboardInterrupt:
            supervisor.shutdown()
        self.stdout.write(json.dumps({"supervisor": supervisor.name, "cameras": supervisor.summary()}))
