import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cameras.models import Camera
from cameras.services import create_camera


class Command(BaseCommand):
    help = "Register a camera at a branch (bank and branch are created when missing). Prints its token once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bank", required=True)
        parser.add_argument("--branch", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", choices=Camera.Role.values, default=Camera.Role.OTHER)

    def handle(self, *args: Any, **options: Any) -> None:
        camera, token = create_camera(options["bank"], options["branch"], options["name"], role=options["role"])
        self.stdout.write(json.dumps({"camera_id": camera.pk, "token": token}))
