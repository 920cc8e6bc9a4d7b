"""Sign-in throttling, in two layers.

1. django-axes (settings AXES_*): LOGIN_FAILURE_LIMIT wrong passwords for one user name from one
   address lock that pair out for LOGIN_LOCKOUT_SECONDS; other addresses and other user names are
   not affected, so nobody can lock a colleague out from elsewhere. Axes keeps the attempt log
   (admin: Axes › Access attempts; deleting a row, or `manage.py axes_reset_username`, unlocks).
2. A back-off per user name, whatever the address (`wait_seconds`): past LOGIN_BACKOFF_AFTER
   failures within LOGIN_LOCKOUT_SECONDS, each further try on that name waits 1 s, then 2, 4 … up
   to LOGIN_BACKOFF_MAX_SECONDS after the last failure. A guesser with many addresses is slowed to
   one try a minute; the real user waits at most that long.

The address is bankwatch.addresses.client_ip: the right end of X-Forwarded-For, skipping only
BANKWATCH_TRUSTED_PROXIES, and None when it does not parse.
"""

import hashlib
import math
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from bankwatch.addresses import client_ip


def _backoff_key(username: str) -> str:
    return "login-backoff:" + hashlib.sha256(normalise(username).encode()).hexdigest()


def normalise(username: str) -> str:
    return username.strip().lower()


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: "Alice " and "alice" are one user name for the count."""
    username = (credentials or {}).get("username") or request.POST.get("username") or ""
    return normalise(str(username))[:150]


def wait_seconds(username: str) -> int:
    """Seconds this user name must still wait before its next try (0: it may try now)."""
    state = cache.get(_backoff_key(username))
    if not state:
        return 0
    failures, last = state
    over = failures - settings.LOGIN_BACKOFF_AFTER
    if over < 0:
        return 0
    delay = min(2.0**over, float(settings.LOGIN_BACKOFF_MAX_SECONDS))
    return max(0, math.ceil(last + delay - time.time()))


def register_failure(username: str) -> None:
    key = _backoff_key(username)
    failures, _last = cache.get(key) or (0, 0.0)
    cache.set(key, (failures + 1, time.time()), timeout=settings.LOGIN_LOCKOUT_SECONDS)


def reset(username: str) -> None:
    cache.delete(_backoff_key(username))


def failure_limit(request: HttpRequest, credentials: Any) -> int:
    """AXES_FAILURE_LIMIT, read at each sign-in so that tests and settings agree."""
    return int(settings.LOGIN_FAILURE_LIMIT)


def cool_off(request: HttpRequest | None = None) -> timedelta:
    return timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def locked_out_message(minutes: int) -> str:
    return _("Too many failed sign-ins. This account is locked from your address for %(minutes)s more minutes.") % {
        "minutes": minutes
    }


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page with a plain message, 429 and Retry-After."""
    from axes.models import AccessAttempt

    username = axes_username(request, credentials)
    last = (
        AccessAttempt.objects.filter(username=username, ip_address=client_ip(request))
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    ends = (last or timezone.now()) + cool_off(request)
    seconds = max(1, math.ceil((ends - timezone.now()).total_seconds()))
    response = render(
        request,
        "registration/login.html",
        {"locked_out": locked_out_message(max(1, round(seconds / 60))), "next": request.POST.get("next", "")},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
