"""HMAC signing of camera requests, so that a replayed or altered frame is refused.

A camera that signs sends three headers with each request:

    X-BankWatch-Timestamp: unix seconds
    X-BankWatch-Nonce:     16-128 characters of [A-Za-z0-9_-], new for every request
    X-BankWatch-Signature: hex HMAC-SHA256 over "METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256(BODY)"

The key is the camera's signing secret (`bws_…`), which is not the token: the token travels
in every request, so a key derived from it (as it once was, from its SHA-256) let whoever
captured one request sign new ones. The secret never travels; it is given to the camera once
(`create_camera`, `rotate_camera_token` or the admin, which rotate it with the token and keep
the previous one verifying for the same grace) and stored encrypted (cameras/credentials.py:
the server must read it back to verify, so it cannot be a hash). A timestamp outside
SIGNATURE_MAX_SKEW_SECONDS is refused; so is a nonce the camera used before within that
window (kept in the database until it expires: a cache could evict it first). The first
correctly signed request makes signing sticky for that camera: unsigned requests are refused
from then on (`Camera.signs_requests`).
"""

import hashlib
import hmac
import re
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cameras.credentials import unseal
from cameras.models import Camera, CameraNonce

TIMESTAMP_HEADER = "X-BankWatch-Timestamp"
NONCE_HEADER = "X-BankWatch-Nonce"
SIGNATURE_HEADER = "X-BankWatch-Signature"
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


class SignatureError(Exception):
    """The request's signature is missing, wrong, stale or replayed; the message says which."""


def _meta_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}".encode()


def secret_of(camera: Camera) -> str:
    """The camera's signing secret in clear: for showing it once and for verifying, nothing else."""
    return unseal(camera.signing_secret, "signing secret")


def _verifying_secrets(camera: Camera) -> list[str]:
    """The current secret, and the previous one while the previous token is within its grace."""
    keys = [secret_of(camera)]
    until = camera.previous_token_valid_until
    if camera.previous_signing_secret and until is not None and until > timezone.now():
        keys.append(unseal(camera.previous_signing_secret, "signing secret"))
    return [key for key in keys if key]


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(secret.encode(), _message(method, path, timestamp, nonce, body), hashlib.sha256).hexdigest()


def sign_headers(secret: str, method: str, path: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """What a camera adds to a request, keyed with its signing secret (our own clients and tests)."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_urlsafe(18)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(secret, method, path, timestamp, nonce, body),
    }


def is_signed(meta: dict[str, str]) -> bool:
    return any(_meta_key(h) in meta for h in (TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER))


def verify(camera: Camera, method: str, path: str, meta: dict[str, str], body: bytes) -> None:
    """Raise SignatureError unless the request carries a fresh, unused, correct signature."""
    timestamp = meta.get(_meta_key(TIMESTAMP_HEADER), "")
    nonce = meta.get(_meta_key(NONCE_HEADER), "")
    given = meta.get(_meta_key(SIGNATURE_HEADER), "")
    if not (timestamp and nonce and given):
        raise SignatureError(f"signed requests need {TIMESTAMP_HEADER}, {NONCE_HEADER} and {SIGNATURE_HEADER}")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > settings.SIGNATURE_MAX_SKEW_SECONDS:
        raise SignatureError("timestamp missing or outside the allowed clock skew")
    if not _NONCE.match(nonce):
        raise SignatureError("nonce must be 16-128 characters of A-Z a-z 0-9 _ -")
    given = given.strip().lower()
    if not any(
        hmac.compare_digest(signature(key, method, path, timestamp, nonce, body), given)
        for key in _verifying_secrets(camera)
    ):
        raise SignatureError("signature does not match the request (signed with the camera's signing secret?)")
    camera_id = camera.pk
    # Only a correctly signed request may use up a nonce, so nobody can burn a camera's nonces.
    now = timezone.now()
    CameraNonce.objects.filter(camera_id=camera_id, expires_at__lt=now).delete()
    try:
        with transaction.atomic():
            CameraNonce.objects.create(
                camera_id=camera_id,
                nonce=nonce,
                expires_at=now + timedelta(seconds=2 * settings.SIGNATURE_MAX_SKEW_SECONDS),
            )
    except IntegrityError:
        raise SignatureError("nonce already used: replayed request") from None
    if not camera.signs_requests:  # sticky from the first signed request; one write, not one a frame
        Camera.objects.filter(pk=camera_id, signs_requests=False).update(signs_requests=True)
        camera.signs_requests = True


def check_unsigned(camera: Camera) -> None:
    """Raise SignatureError when an unsigned request may not pass for this camera."""
    if settings.REQUIRE_SIGNED_FRAMES:
        raise SignatureError("unsigned requests are refused (BANKWATCH_REQUIRE_SIGNED_FRAMES)")
    if Camera.objects.filter(pk=camera.pk, signs_requests=True).exists():
        raise SignatureError("this camera signs its requests: unsigned ones are refused")
