import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.log import record
from cameras.actions import StreamConfigError, create_camera
from cameras.models import Camera
from cameras.signing import secret_of


class Command(BaseCommand):
    help = (
        "Register a camera at a branch (bank and branch are created when missing). Prints its token and its "
        "request-signing secret once. "
        "With --stream-url a supervisor (run_cameras) pulls it; a password in the URL, or in "
        "BANKWATCH_STREAM_PASSWORD (which keeps it out of the process list), is stored encrypted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bank", required=True)
        parser.add_argument("--branch", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", choices=Camera.Role.values, default=Camera.Role.OTHER)
        parser.add_argument("--stream-url", default="", help="rtsp://host/path or http(s)://host/snapshot")
        parser.add_argument(
            "--source", choices=[s for s in Camera.Source.values if s != "push"], help="default: from the URL's scheme"
        )
        parser.add_argument("--username", help="stream user name (or in the URL)")
        parser.add_argument("--auth", choices=Camera.Auth.values, help="HTTP authentication (default digest)")
        parser.add_argument("--fps", type=float, help="frames per second sampled for recognition (default 5)")
        parser.add_argument(
            "--jurisdiction", default="", help="police jurisdiction of a bank created here (never guessed)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("BANKWATCH_STREAM_PASSWORD") or None
        if password and not options["stream_url"]:
            raise CommandError("BANKWATCH_STREAM_PASSWORD is set but no --stream-url is given")
        try:
            camera, token = create_camera(
                options["bank"],
                options["branch"],
                options["name"],
                role=options["role"],
                stream_url=options["stream_url"],
                source=options["source"],
                username=options["username"],
                password=password,
                auth=options["auth"],
                fps=options["fps"],
                jurisdiction=options["jurisdiction"],
            )
        except StreamConfigError as exc:
            raise CommandError(str(exc)) from None
        record("camera.created", camera, actor_label="manage.py", source=camera.source)  # never the token or secret
        bank = camera.branch.bank
        warnings = []
        if not bank.jurisdiction:
            warnings.append(
                f"bank {bank.name!r} has no police jurisdiction, so its alerts cannot be escalated: "
                "set it in the admin (Banks) or create the bank's first camera with --jurisdiction"
            )
        elif options["jurisdiction"] and options["jurisdiction"].strip() != bank.jurisdiction:
            warnings.append(
                f"bank {bank.name!r} already has the jurisdiction {bank.jurisdiction!r}; --jurisdiction was not applied"
            )
        self.stdout.write(
            json.dumps(
                {
                    "camera_id": camera.pk,
                    "token": token,
                    "signing_secret": secret_of(camera),
                    "source": camera.source,
                    "stream_url": camera.stream_url,
                    "fps": camera.fps,
                    "has_password": bool(camera.stream_credentials),
                    "jurisdiction": bank.jurisdiction,
                    "warnings": warnings,
                }
            )
        )
