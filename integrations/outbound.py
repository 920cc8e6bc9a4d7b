"""Events out of BankWatch: one envelope, every route that wants it.

The feed (alerts/feed.py emit), the case actions (cases/actions.py) and camera health
(cameras/health.py change_health) queue `integrations.announce_*` by name once their transaction
commits; the job builds the envelope here and hands it to each webhook of the event's bank (and,
for what the police see, of its jurisdiction) as a queued delivery, and to MQTT when
BANKWATCH_MQTT_URL is set. Nothing here runs inside the recognition job.

    {"type": "alert.created", "id": "<uuid>", "occurred_at": "<ISO 8601>", "data": {...}}

`data` is the alert as the live feed shows it (alerts/feed.py serialize_alert), no image: its
`images` are links under BANKWATCH_PUBLIC_URL to /api/v1/alerts/{id}/images/{kind}, which serve
the file only to an API key or session of the alert's scope (audited); a case; or a camera's health.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from bankwatch.jobs import enqueue
from integrations.models import Webhook, WebhookDelivery


@dataclass(frozen=True)
class Audience:
    """Who may hear an event: a bank's branch, and the police of its jurisdiction when they see it."""

    bank_id: int
    branch_id: int
    bank_name: str
    branch_name: str
    jurisdiction: str
    for_police: bool


def envelope(event_type: str, data: dict[str, Any], occurred_at: str | None = None) -> dict[str, Any]:
    return {
        "type": event_type,
        "id": str(uuid.uuid4()),
        "occurred_at": occurred_at or timezone.now().isoformat(),
        "data": data,
    }


def webhooks_for(event_type: str, audience: Audience) -> list[Webhook]:
    reach = Q(bank_id=audience.bank_id)
    if audience.for_police and audience.jurisdiction:
        reach |= Q(bank__isnull=True, jurisdiction__iexact=audience.jurisdiction.strip())
    return [hook for hook in Webhook.objects.filter(reach, is_active=True) if hook.wants(event_type)]


def announce(event: dict[str, Any], audience: Audience, *, mqtt: dict[str, Any] | None = None) -> list[int]:
    """Queue the event to every webhook that wants it and to MQTT; the deliveries' ids."""
    ids = []
    for hook in webhooks_for(event["type"], audience):
        delivery = WebhookDelivery.objects.create(
            webhook=hook, event_id=event["id"], event_type=event["type"], payload=event
        )
        enqueue("integrations.deliver_webhook", delivery.pk)
        ids.append(delivery.pk)
    if settings.MQTT_URL:
        enqueue("integrations.publish_mqtt", audience.bank_name, audience.branch_name, {**event, **(mqtt or {})})
    return ids
