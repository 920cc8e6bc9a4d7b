import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.actions import revoke_api_key
from integrations.models import ApiKey


class Command(BaseCommand):
    help = "Revoke an API key for good, by the key_id create_api_key printed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key_id")

    def handle(self, *args: Any, **options: Any) -> None:
        api_key = ApiKey.objects.filter(prefix=options["key_id"]).first()
        if api_key is None:
            raise CommandError(f"no API key {options['key_id']!r}")
        revoked = revoke_api_key(api_key)
        self.stdout.write(json.dumps({"key_id": api_key.prefix, "name": api_key.name, "revoked": True, "already": not revoked}))
