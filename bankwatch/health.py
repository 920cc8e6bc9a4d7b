"""GET /healthz: 200 {"status": "ok"} or 503 {"status": "failing"} for anyone (load balancers);
a signed-in user also gets one entry per dependency and the names of those failing (queue depth
and versions are nobody else's business)."""

import asyncio
import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from bankwatch.jobs import queue_health
from recognition.model_id import model_id
from recognition.weights import missing_weights


def _database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, connection.vendor
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure, it does not raise
        return False, f"unreachable: {exc.__class__.__name__}"
    finally:
        connection.close_if_unusable_or_obsolete()


async def _channel_layer() -> tuple[bool, str]:
    layer = get_channel_layer()
    if layer is None:
        return False, "not configured"
    try:
        channel = await layer.new_channel()
        await asyncio.wait_for(layer.send(channel, {"type": "health.ping"}), 2)
        await asyncio.wait_for(layer.receive(channel), 2)
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure, it does not raise
        return False, f"unreachable: {exc.__class__.__name__}"
    return True, layer.__class__.__name__


def _weights() -> tuple[bool, str]:
    missing = missing_weights(settings.RECOGNITION_MODEL, settings.RECOGNITION_DETECTOR)
    if missing:
        return False, f"missing {', '.join(missing)}: run manage.py provision_models"
    return True, model_id()


async def healthz(request: HttpRequest) -> JsonResponse:
    started = time.monotonic()
    results = {
        "database": await sync_to_async(_database, thread_sensitive=False)(),
        "channel_layer": await _channel_layer(),
        "job_queue": await sync_to_async(queue_health, thread_sensitive=False)(),
        "model_weights": _weights(),
    }
    checks: dict[str, Any] = {name: {"ok": ok, "detail": detail} for name, (ok, detail) in results.items()}
    failing = [name for name, (ok, _) in results.items() if not ok]
    body = {
        "status": "ok" if not failing else "failing",
        "failing": failing,
        "checks": checks,
        "ms": round((time.monotonic() - started) * 1000, 1),
    }
    user = await request.auser()
    if not user.is_authenticated:
        body = {"status": body["status"]}
    return JsonResponse(body, status=503 if failing else 200)
