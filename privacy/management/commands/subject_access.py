import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from privacy.actions import subject_access_search
from privacy.models import DataRequest
from privacy.search import NoFaceError
from recognition.images import InvalidImageError


class Command(BaseCommand):
    help = (
        "Whether the face in a requester's photo is on a watchlist, in an alert or a counter-example. "
        "Nothing of the photo is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--photo", required=True, help="the requester's photo (JPEG, PNG or WebP)")
        parser.add_argument("--request", type=int, help="the request (privacy admin) that keeps what was found")

    def handle(self, *args: Any, **options: Any) -> None:
        data_request = None
        if options["request"] is not None:
            data_request = DataRequest.objects.filter(pk=options["request"]).first()
            if data_request is None:
                raise CommandError(f"no request {options['request']}")
        try:
            data = Path(options["photo"]).read_bytes()
            found = subject_access_search(data, data_request=data_request)
        except (OSError, InvalidImageError, NoFaceError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(found.summary(), ensure_ascii=False))
