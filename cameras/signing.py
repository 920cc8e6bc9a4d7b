"""HMAC signing of camera requests, so that a replayed or altered frame is refused.

A camera that signs sends three headers with each request:

    X-BankWatch-Timestamp: unix seconds
    X-BankWatch-Nonce:     16-128 characters of [A-Za-z0-9_-], new for every request
    X-BankWatch-Signature: hex HMAC-SHA256 over "METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256(BODY)"

The key is the hex SHA-256 of the camera's token, which the server also holds (it stores
only that hash), so no second secret has to be provisioned. A timestamp outside
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

from cameras.models import Camera, CameraNonce, hash_token

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


def signature(token: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    key = hash_token(token).encode()
    return hmac.new(key, _message(method, path, timestamp, nonce, body), hashlib.sha256).hexdigest()


def sign_headers(token: str, method: str, path: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """What a camera adds to a request (used by our own clients and tests)."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_urlsafe(18)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(token, method, path, timestamp, nonce, body),
    }


def is_signed(meta: dict[str, str]) -> bool:
    return any(_meta_key(h) in meta for h in (TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER))


def verify(camera_id: int, token: str, method: str, path: str, meta: dict[str, str], body: bytes) -> None:
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
    expected = signature(token, method, path, timestamp, nonce, body)
    if not hmac.compare_digest(expected, given.strip().lower()):
        raise SignatureError("signature does not match the request")
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
    Camera.objects.filter(pk=camera_id, signs_requests=False).update(signs_requests=True)


def check_unsigned(camera: Camera) -> None:
    """Raise SignatureError when an unsigned request may not pass for this camera."""
    if settings.REQUIRE_SIGNED_FRAMES:
        raise SignatureError("unsigned requests are refused (BANKWATCH_REQUIRE_SIGNED_FRAMES)")
    if Camera.objects.filter(pk=camera.pk, signs_requests=True).exists():
        raise SignatureError("this camera signs its requests: unsigned ones are refused")
