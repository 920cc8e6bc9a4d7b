import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit.log import record
from cameras.actions import rotate_token
from cameras.models import Camera


class Command(BaseCommand):
    help = (
        "Give a camera a new token, printed once. The old token keeps working for --grace seconds "
        "(default 3600) so the camera can be reconfigured without dropping frames; --grace 0 revokes it now."
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
        with transaction.atomic():
            token = rotate_token(camera, grace_seconds=options["grace"])
            camera.refresh_from_db()
            until = camera.previous_token_valid_until
            record("camera.token_rotated", camera, actor_label="manage.py", grace_seconds=options["grace"])
        self.stdout.write(
            json.dumps(
                {"camera_id": camera.pk, "token": token, "old_token_valid_until": until.isoformat() if until else None}
            )
        )
