"""Paired browsers: a tablet at the door that shows a camera's prompts (`display`), or a phone or
laptop whose webcam is the camera (`capture`).

1. `python manage.py pair_display CAMERA_ID [--capture]` calls `issue_pairing_code`: a one-time
   code, printed once, stored as its hash, valid PAIRING_CODE_SECONDS.
2. On the device someone opens `/pair/` and types the code; `redeem_pairing_code` uses it up
   (a conditional UPDATE, so a code pairs one device at most) and creates a PairedDevice whose
   token is set as an HttpOnly cookie named `cookie_name(camera_id, kind)` and stored hashed.
3. A device page or socket asks `device_from_request(request, camera_id, kind)` or
   `device_from_scope(scope, camera_id, kind)`: the device, or None. A token opens exactly its
   one camera and kind; nothing else in the product accepts it (tests/test_access_matrix.py).
4. A curator revokes a device in the admin (`revoke_device`); its cookie stops working at once.

Each step is in the audit log. The page a device lands on after pairing is the URL named in
DEVICE_PAGES for its kind, with `camera_id`; until that page exists it sees a plain "paired" page.
"""

import contextlib
import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from audit.log import client_ip, record
from cameras.models import Camera, DeviceKind, PairedDevice, PairingCode, hash_token

# Unambiguous letters and digits (no 0/O, 1/I/L): 31**8 ≈ 8.5e11 codes, typed as "ABCD-EFGH".
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
DEVICE_PAGES = {DeviceKind.DISPLAY: "camera-display", DeviceKind.CAPTURE: "camera-capture"}
COOKIE_MAX_AGE = 365 * 24 * 3600


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    # Keyed with the secret: a leaked table of code hashes cannot be searched through offline.
    return hashlib.sha256(f"{settings.SECRET_KEY}:pairing:{normalise_code(code)}".encode()).hexdigest()


def cookie_name(camera_id: int, kind: str) -> str:
    return f"bw_device_{kind}_{camera_id}"


@transaction.atomic
def issue_pairing_code(camera: Camera, kind: str, actor_label: str = "manage.py") -> tuple[str, PairingCode]:
    """A new one-time code for pairing a device as `kind` of `camera`; returned once, stored hashed."""
    if kind not in DeviceKind.values:
        raise ValueError(f"unknown device kind {kind!r}")
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = timezone.now() + timedelta(seconds=settings.PAIRING_CODE_SECONDS)
    pairing = PairingCode.objects.create(camera=camera, kind=kind, code_hash=hash_code(raw), expires_at=expires)
    record("camera.pairing_code_issued", camera, actor_label=actor_label, kind=kind, expires_at=expires.isoformat())
    return f"{raw[:4]}-{raw[4:]}", pairing


class PairingRefusedError(Exception):
    """The code is unknown, used or expired, or this address tried too many; the message says which."""


def _attempts_key(request: HttpRequest) -> str:
    return f"pairing-attempts:{client_ip(request) or '-'}"


def redeem_pairing_code(request: HttpRequest, code: str) -> tuple[PairedDevice, str]:
    """Use up a pairing code and create the device it pairs; returns the device and its token once."""
    key = _attempts_key(request)
    if (cache.get(key) or 0) >= settings.PAIRING_ATTEMPT_LIMIT:
        raise PairingRefusedError("too many wrong codes from this address; wait a few minutes")
    now = timezone.now()
    with transaction.atomic():
        pairing = PairingCode.objects.filter(code_hash=hash_code(code)).select_related("camera").first()
        used = (
            PairingCode.objects.filter(pk=pairing.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
            if pairing is not None
            else 0
        )
        if not used or pairing is None or not pairing.camera.is_active:
            if not cache.add(key, 1, timeout=settings.PAIRING_CODE_SECONDS):
                with contextlib.suppress(ValueError):  # expired meanwhile
                    cache.incr(key)
            raise PairingRefusedError("that code is unknown, already used or expired")
        token = f"bwd_{secrets.token_urlsafe(32)}"
        device = PairedDevice.objects.create(
            camera=pairing.camera,
            kind=pairing.kind,
            token_hash=hash_token(token),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )
        record("camera.device_paired", device, request=request, camera_id=pairing.camera_id, kind=pairing.kind)
    return device, token


def set_device_cookie(response: HttpResponse, device: PairedDevice, token: str) -> None:
    response.set_cookie(
        cookie_name(device.camera_id, device.kind),
        token,
        max_age=COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def device_page(device: PairedDevice) -> str | None:
    try:
        return reverse(DEVICE_PAGES[DeviceKind(device.kind)], kwargs={"camera_id": device.camera_id})
    except NoReverseMatch:
        return None


def authenticate_device(token: str | None, camera_id: int, kind: str) -> PairedDevice | None:
    """The live device this token pairs to exactly `camera_id` as `kind`, or None."""
    if not token:
        return None
    device = (
        PairedDevice.objects.select_related("camera__branch__bank")
        .filter(
            token_hash=hash_token(token),
            camera_id=camera_id,
            kind=kind,
            revoked_at__isnull=True,
            camera__is_active=True,
        )
        .first()
    )
    if device is not None:
        now = timezone.now()
        if device.last_seen_at is None or now - device.last_seen_at > timedelta(minutes=1):
            PairedDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
    return device


def device_from_request(request: HttpRequest, camera_id: int, kind: str) -> PairedDevice | None:
    """For a view: the device whose cookie this request carries for that camera and kind."""
    return authenticate_device(request.COOKIES.get(cookie_name(camera_id, kind)), camera_id, kind)


def device_from_scope(scope: dict[str, Any], camera_id: int, kind: str) -> PairedDevice | None:
    """For a websocket consumer (call through database_sync_to_async): the same from the socket's cookies."""
    cookies = scope.get("cookies") or {}
    return authenticate_device(cookies.get(cookie_name(camera_id, kind)), camera_id, kind)


@transaction.atomic
def revoke_device(device: PairedDevice, actor: Any = None, request: HttpRequest | None = None) -> bool:
    """Stop a device's token working now; False when it was already revoked."""
    changed = PairedDevice.objects.filter(pk=device.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if changed:
        record("camera.device_revoked", device, actor=actor, request=request, camera_id=device.camera_id)
    return bool(changed)
