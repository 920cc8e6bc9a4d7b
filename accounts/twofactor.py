"""Second factor (TOTP through django-otp) for the roles that see or change the most:
police liaisons, watchlist curators and superusers. TwoFactorMiddleware (HTTP) and
TwoFactorASGIMiddleware (sockets) enforce it; this module says who needs it and checks it."""

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY, verify_token
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role
from audit.log import record


def requires_second_factor(user: Any) -> bool:
    if not settings.REQUIRE_2FA or not getattr(user, "is_authenticated", False):
        return False
    # Auditors read every bank's alerts and faces, so they need it as much as police and curators; the
    # data protection officer searches every watchlist by a face and exports what is held about it.
    return user.role in (Role.POLICE, Role.CURATOR, Role.AUDITOR, Role.DATA_PROTECTION_OFFICER) or user.is_superuser


def session_device(session: SessionBase | None, user: Any) -> Device | None:
    """The confirmed device this session was verified with, if it belongs to the user."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return None
    device = Device.from_persistent_id(persistent_id)
    if device is None or device.user_id != user.pk or not device.confirmed:
        return None
    return device


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: Any) -> TOTPDevice:
    """The not-yet-confirmed device a user is enrolling (one at a time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def secret_of(device: TOTPDevice) -> str:
    """The base32 secret an authenticator app asks for when the QR code cannot be scanned."""
    from base64 import b32encode

    return b32encode(device.bin_key).decode()


@transaction.atomic
def verify(request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    """Check a code; on success confirm the device (first use) and mark the session verified."""
    token = "".join(token.split())
    if not token.isdigit() or verify_token(request.user, device.persistent_id, token) is None:
        record("auth.2fa_failed", device, request=request)
        return False
    device.refresh_from_db()
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record("auth.2fa_enrolled", device, request=request)
    otp_login(request, device)
    return True
