import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cameras.actions import rotate_credentials
from cameras.models import Camera


class Command(BaseCommand):
    help = (
        "Give a camera a new token and a new request-signing secret, printed once. The old pair keeps working "
        "for --grace seconds (default 3600) so the camera can be reconfigured without dropping frames; "
        "--grace 0 revokes it now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("camera_id", type=int)
        parser.add_argument("--grace", type=int, default=3600, help="seconds the old token stays valid")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["grace"] < 0:
            raise CommandError("--grace must be 0 or more seconds")
        camera = Camera.objects.filter(pk=options["camera_id"]).first()
        if camera is None:
            raise CommandError(f"no camera with id {options['camera_id']}")
        issued = rotate_credentials(camera, grace_seconds=options["grace"], actor_label="manage.py")
        until = issued.old_valid_until
        self.stdout.write(
            json.dumps(
                {
                    "camera_id": camera.pk,
                    "token": issued.token,
                    "signing_secret": issued.signing_secret,
                    "old_token_valid_until": until.isoformat() if until else None,
                }
            )
        )
