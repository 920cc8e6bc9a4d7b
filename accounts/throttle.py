"""Sign-in throttling: LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address
lock that pair out for LOGIN_LOCKOUT_SECONDS. Other addresses, and the same address for other
user names, are not affected, so an attacker cannot lock a colleague out from elsewhere."""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import LoginThrottle
from audit.log import client_ip, record


def _key(username: str, ip: str | None) -> str:
    return hashlib.sha256(f"{username.strip().lower()}|{ip or '-'}".encode()).hexdigest()


def locked_until(username: str, ip: str | None) -> datetime | None:
    """When the lockout of this user name and address ends, or None when it may try."""
    until = (
        LoginThrottle.objects.filter(key=_key(username, ip), locked_until__gt=timezone.now())
        .values_list("locked_until", flat=True)
        .first()
    )
    return until


@transaction.atomic
def register_failure(username: str, request: HttpRequest | None) -> bool:
    """Count one failed sign-in; returns True when this failure starts a lockout."""
    ip = client_ip(request)
    now = timezone.now()
    window = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    row, created = LoginThrottle.objects.select_for_update().get_or_create(
        key=_key(username, ip), defaults={"failures": 1, "first_failure_at": now}
    )
    if not created:
        if row.first_failure_at < now - window and not (row.locked_until and row.locked_until > now):
            row.failures, row.first_failure_at, row.locked_until = 1, now, None
        else:
            row.failures = F("failures") + 1
        row.save()
        row.refresh_from_db()
    if row.failures >= settings.LOGIN_FAILURE_LIMIT and not (row.locked_until and row.locked_until > now):
        row.locked_until = now + window
        row.save(update_fields=["locked_until"])
        record("auth.locked_out", actor_label=username[:150] or "-", request=request, failures=row.failures)
        return True
    return False


def reset(username: str, ip: str | None) -> None:
    LoginThrottle.objects.filter(key=_key(username, ip)).delete()
