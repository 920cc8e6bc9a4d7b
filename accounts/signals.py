from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts import throttle
from audit.log import client_ip


@receiver(user_login_failed)
def count_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    username = str(credentials.get("username") or "")
    if request is not None and username:
        throttle.register_failure(username, request)


@receiver(user_logged_in)
def forget_failed_sign_ins(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    if request is not None:
        throttle.reset(user.get_username(), client_ip(request))
