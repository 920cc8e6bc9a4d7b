"""Webhook deliveries: signed, tried by jobs of the outbound lane, retried with back-off, logged.

Each delivery POSTs the event's JSON with `BankWatch-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256 of "<t>.<body>" keyed with the endpoint's secret>` (as Stripe signs its webhooks: a
receiver recomputes it and refuses a stale `t`). A try that gets no 2xx answer within
BANKWATCH_WEBHOOK_TIMEOUT_SECONDS is logged (WebhookAttempt: status code, response time, error)
and tried again after BANKWATCH_WEBHOOK_RETRY_BASE_SECONDS, doubling up to
BANKWATCH_WEBHOOK_RETRY_MAX_SECONDS, until BANKWATCH_WEBHOOK_RETRY_HOURS after the event; then it
is failed (a bank administrator may replay it from the log).

1. `deliver(id)` claims the delivery with one conditional UPDATE on its attempt count, so two jobs
   never send the same try twice.
2. It signs and POSTs, logs the attempt, and marks the delivery delivered, retrying or failed.
3. `retry_due()` (Celery beat every 10 s, or the embedded beat) queues each delivery whose next try
   is due, claiming it the same way.
"""

import hashlib
import hmac
import ipaddress
import json
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.log import record
from cameras.credentials import unseal
from integrations.models import WebhookAttempt, WebhookDelivery

SIGNATURE_HEADER = "BankWatch-Signature"
LEASE = timedelta(minutes=10)
Status = WebhookDelivery.Status


def check_url(url: str) -> None:
    """HTTPS; plain HTTP only to a loopback address (tests, a relay on the same machine)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return
    raise ValidationError(f"{url!r}: a webhook URL must be https:// (http:// only to a loopback address)")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, tolerance_seconds: int = 300) -> bool:
    """What a receiver does (and the tests): recompute the signature, refuse a stale timestamp."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), f"t={timestamp},v1={fields.get('v1', '')}")


def retry_delay(attempts: int) -> float:
    return min(settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_SECONDS)


def deliver(delivery_id: int) -> str | None:
    """Try one delivery now; its new status, or None when another job had it or it is settled."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (Status.DELIVERED, Status.FAILED):
        return None
    number = delivery.attempts + 1
    claimed = WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
        attempts=F("attempts") + 1, next_attempt_at=None
    )
    if not claimed:
        return None
    webhook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "BankWatch-Webhooks/1",
        "BankWatch-Event": delivery.event_type,
        "BankWatch-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: sign(unseal(webhook.secret, "webhook secret"), body, int(time.time())),
    }
    started = time.perf_counter()
    code: int | None = None
    error = ""
    try:
        response = requests.post(
            webhook.url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False
        )
        code = response.status_code
        if not 200 <= code < 300:
            error = f"answered {code}"
    except requests.RequestException as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:300]
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    WebhookAttempt.objects.create(delivery=delivery, number=number, status_code=code, response_ms=elapsed_ms, error=error)
    now = timezone.now()
    changes: dict[str, object] = {"last_status_code": code, "last_response_ms": elapsed_ms, "last_error": error}
    if not error:
        changes |= {"status": Status.DELIVERED, "delivered_at": now}
    else:
        due = now + timedelta(seconds=retry_delay(number))
        if due <= delivery.created_at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
            changes |= {"status": Status.RETRYING, "next_attempt_at": due}
        else:
            changes |= {"status": Status.FAILED}
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)
    return str(changes["status"])


def retry_due() -> int:
    """Queue every delivery whose next try is due; how many were queued."""
    from bankwatch.jobs import enqueue

    now = timezone.now()
    queued = 0
    due = WebhookDelivery.objects.filter(status=Status.RETRYING, next_attempt_at__lte=now)
    for delivery_id, attempts in due.values_list("id", "attempts")[:500]:
        # Claimed by moving the due time on (a lease: a job lost with its process is queued again then);
        # deliver() claims the try itself.
        if WebhookDelivery.objects.filter(pk=delivery_id, attempts=attempts, next_attempt_at__lte=now).update(
            next_attempt_at=now + LEASE
        ):
            enqueue("integrations.deliver_webhook", delivery_id)
            queued += 1
    return queued


def purge_log(now: datetime | None = None) -> int:
    """Forget settled deliveries (their payloads name subjects) after BANKWATCH_RETENTION_WEBHOOK_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RETENTION_WEBHOOK_DAYS)
    settled = WebhookDelivery.objects.filter(status__in=[Status.DELIVERED, Status.FAILED], created_at__lt=cutoff)
    with transaction.atomic():
        deleted, _ = settled.delete()
        if deleted:
            record("webhook.log_purged", actor_label="retention", rows=deleted, before=cutoff.isoformat())
    return deleted
