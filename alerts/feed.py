"""The live feed: how an alert looks on the wire, and the one place events are emitted.

`emit(alert, kind)` writes the AlertEvent row (so a reconnecting client can catch up)
and, once the transaction commits, publishes it to the channel-layer groups of the
alert's branch and bank, and of the police when the alert has been escalated.
"""

from typing import Any

from django.db import transaction
from django.urls import reverse

from accounts.scope import bank_group, branch_group, police_group
from alerts.models import Alert, AlertEvent
from bankwatch.events import publish

POLICE_STATUSES = {Alert.Status.ESCALATED, Alert.Status.CASE_OPENED, Alert.Status.CLOSED}


def serialize_alert(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "status": alert.status,
        "dismiss_reason": alert.dismiss_reason,
        "subject": {"id": alert.subject_id, "name": alert.subject.full_name},
        "watchlist": {
            "id": alert.watchlist_id,
            "name": alert.watchlist.name,
            "colour": alert.watchlist.colour,
            "sound": alert.watchlist.sound,
            "requires_acknowledgement": alert.watchlist.requires_acknowledgement,
        },
        "camera": {"id": alert.camera_id, "name": alert.camera.name},
        "branch": {"id": alert.branch_id, "name": alert.branch.name},
        "bank": {"id": alert.bank_id, "name": alert.bank.name},
        "score": round(alert.score, 4),
        "threshold": round(alert.threshold, 4),
        # A queue annotates n_sightings so that a page of alerts is not one count query per row.
        "sightings": getattr(alert, "n_sightings", None) or alert.sightings.count(),
        "created_at": alert.created_at.isoformat(),
        "last_seen_at": alert.last_seen_at.isoformat(),
        "version": alert.version,
        "images": {
            "probe": reverse("alert-image", args=[alert.pk, "probe"]) if alert.probe_crop else None,
            "frame": reverse("alert-image", args=[alert.pk, "frame"]) if alert.evidence_frame else None,
        },
        "url": reverse("alert-detail", args=[alert.pk]),
    }


def groups_for(event: AlertEvent) -> list[str]:
    groups = [branch_group(event.branch_id), bank_group(event.bank_id)]
    if event.for_police:
        groups.append(police_group(event.bank.jurisdiction))
    return groups


def emit(alert: Alert, kind: str) -> AlertEvent:
    """Record and publish one feed event. Call inside the transaction that changed the alert."""
    event = AlertEvent.objects.create(
        alert=alert,
        kind=kind,
        bank_id=alert.bank_id,
        branch_id=alert.branch_id,
        for_police=alert.status in POLICE_STATUSES,
        payload=serialize_alert(alert),
    )
    message = {"type": kind, "event_id": event.pk, "alert": event.payload}
    transaction.on_commit(lambda: publish(groups_for(event), message))
    return event
