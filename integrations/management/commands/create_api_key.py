import json
from datetime import datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.models import Role
from integrations.actions import create_api_key


def parse_expiry(value: str) -> datetime:
    """2027-06-30 (the end of that day, local time) or an ISO 8601 moment."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--expires {value!r} is not a date (YYYY-MM-DD) or ISO 8601 time")
        moment = datetime.combine(day, time(23, 59, 59))
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = (
        "Create an API key for an integrator, scoped exactly like a user of that role and scope. "
        'Prints {"key_id", "key"}: the key is shown once and stored hashed. Send it as "Authorization: Api-Key <key>".'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="names the key in the audit log")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--bank", default="")
        parser.add_argument("--branch", action="append", default=[], help="repeat for several branches")
        parser.add_argument("--jurisdiction", default="")
        parser.add_argument("--expires", help="YYYY-MM-DD or ISO 8601; default: never")
        parser.add_argument(
            "--admin", action="store_true", help="may also manage the bank's cameras and webhooks (bank administrator)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            api_key, key = create_api_key(
                options["name"],
                options["role"],
                bank_name=options["bank"],
                branch_names=tuple(options["branch"]),
                jurisdiction=options["jurisdiction"],
                expires=parse_expiry(options["expires"]) if options["expires"] else None,
                admin=options["admin"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(json.dumps({"key_id": api_key.prefix, "key": key}))
