import json
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actions import create_user
from accounts.models import Role


class Command(BaseCommand):
    help = "Create a user with a role; the password comes from $BANKWATCH_PASSWORD."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--bank", default="")
        parser.add_argument("--branch", default="")
        parser.add_argument("--jurisdiction", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("BANKWATCH_PASSWORD", "")
        if not password:
            raise CommandError("set the password in the BANKWATCH_PASSWORD environment variable")
        try:
            user = create_user(
                options["username"],
                options["role"],
                password,
                bank_name=options["bank"],
                branch_name=options["branch"],
                jurisdiction=options["jurisdiction"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(json.dumps({"user_id": user.pk, "username": user.username, "role": user.role}))
