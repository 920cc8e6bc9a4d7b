from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts import throttle
from audit.log import client_ip


class ThrottledModelBackend(ModelBackend):
    """The usual user-name-and-password check, refused outright while the pair is locked out.

    Every sign-in form (ours, the admin's) goes through here; failures are counted by the
    user_login_failed signal (accounts/signals.py)."""

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if request is not None and username and throttle.locked_until(username, client_ip(request)):
            # PermissionDenied stops django.contrib.auth.authenticate from asking other backends.
            raise PermissionDenied("too many failed sign-ins")
        return super().authenticate(request, username=username, password=password, **kwargs)
