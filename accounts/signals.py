from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts import throttle
from audit.log import record


@receiver(user_login_failed)
def count_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    username = str(credentials.get("username") or "")
    if request is not None and username:
        throttle.register_failure(username)


@receiver(user_logged_in)
def forget_failed_sign_ins(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    if request is not None:
        throttle.reset(user.get_username())


@receiver(user_locked_out)
def audit_lockout(sender: Any, request: HttpRequest, username: str, **_: Any) -> None:
    """One entry when the lockout starts; axes signals again at every refused try during it."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures != throttle.failure_limit(request, None):
        return
    record("auth.locked_out", actor_label=(username or "-")[:150], request=request, failures=failures)
