import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cameras.devices import issue_pairing_code
from cameras.models import Camera, DeviceKind


class Command(BaseCommand):
    help = (
        "Print a one-time code that pairs a browser with a camera at /pair/: as its entrance display, "
        "or with --capture as the camera itself (its webcam sends the frames). The code is short-lived."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("camera_id", type=int)
        parser.add_argument("--capture", action="store_true", help="pair a capture device instead of a display")

    def handle(self, *args: Any, **options: Any) -> None:
        camera = Camera.objects.filter(pk=options["camera_id"], is_active=True).first()
        if camera is None:
            raise CommandError(f"no active camera with id {options['camera_id']}")
        kind = DeviceKind.CAPTURE if options["capture"] else DeviceKind.DISPLAY
        code, pairing = issue_pairing_code(camera, kind)
        self.stdout.write(
            json.dumps(
                {
                    "camera_id": camera.pk,
                    "kind": str(kind),
                    "code": code,
                    "pair_at": "/pair/",
                    "expires_at": pairing.expires_at.isoformat(),
                }
            )
        )
