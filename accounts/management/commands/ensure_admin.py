import json
import os
import secrets
from typing import Any

from django.core.management.base import BaseCommand

from accounts.models import User


class Command(BaseCommand):
    help = "Make sure an 'admin' superuser exists; password from $BANKWATCH_ADMIN_PASSWORD or generated once."

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("BANKWATCH_ADMIN_USER", "admin")
        password = os.environ.get("BANKWATCH_ADMIN_PASSWORD", "")
        user = User.objects.filter(username=username).first()
        if user is not None and not password:
            self.stdout.write(json.dumps({"username": username, "password": None, "note": "existing admin kept"}))
            return
        generated = not password
        password = password or secrets.token_urlsafe(12)
        if user is None:
            User.objects.create_superuser(username=username, password=password, email="")
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        self.stdout.write(json.dumps({"username": username, "password": password, "generated": generated}))
