import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.actions import add_webhook
from integrations.models import EVENT_TYPES


class Command(BaseCommand):
    help = (
        "Add a webhook endpoint for a bank (or, for the police, a jurisdiction). Prints "
        '{"webhook_id", "secret"}: the signing secret is shown once.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True, help="https://… (http:// only to a loopback address)")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--bank")
        where.add_argument("--jurisdiction")
        parser.add_argument("--events", nargs="*", default=[], choices=EVENT_TYPES, help="default: every event")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            webhook, secret = add_webhook(
                options["url"],
                bank_name=options["bank"] or "",
                jurisdiction=options["jurisdiction"] or "",
                events=tuple(options["events"]),
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(json.dumps({"webhook_id": webhook.pk, "secret": secret}))
