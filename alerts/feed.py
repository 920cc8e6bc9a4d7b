"""The live feed: how an alert looks on the wire, and the one place events are emitted.

`emit(alert, kind)` writes the AlertEvent row (so a reconnecting client can catch up)
and, once the transaction commits, publishes it to the channel-layer groups of the
alert's branch and bank, and of the police when the alert has been escalated, and queues
it for the integrations (webhooks, MQTT: integrations/tasks.py announce_alert_event).
"""

from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.urls import reverse

from accounts.scope import bank_group, branch_group, police_group
from alerts.models import Alert, AlertEvent, Sighting
from alerts.strength import strength
from bankwatch.events import publish
from bankwatch.jobs import enqueue
from enrollment.models import ReferencePhoto

_UNSET = object()


def for_listing(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """What serialize_alert reads for every alert of a list, fetched with the list itself: the count of
    sightings, the best sighting and the subject's first accepted reference photo (no query per row)."""
    best = Sighting.objects.filter(alert=OuterRef("pk")).exclude(face_crop="").order_by("-score", "seen_at", "id")
    photo = ReferencePhoto.objects.filter(subject=OuterRef("subject_id"), status=ReferencePhoto.Status.ACCEPTED)
    # Correlated subqueries, not a JOIN with GROUP BY: PostgreSQL computes them for the page's rows
    # only, after ORDER BY and LIMIT, and a count of the list does not group a year of sightings.
    count = Sighting.objects.filter(alert=OuterRef("pk")).order_by().values("alert").annotate(n=Count("pk"))
    return alerts.select_related("subject", "watchlist", "camera", "branch", "bank").annotate(
        n_sightings=Subquery(count.values("n")[:1]),
        best_sighting_id=Subquery(best.values("pk")[:1]),
        reference_photo_id=Subquery(photo.order_by("pk").values("pk")[:1]),
    )


def _best_sighting_id(alert: Alert) -> int | None:
    if alert.is_covered_event:
        return None
    found = getattr(alert, "best_sighting_id", _UNSET)
    if found is _UNSET:
        best = alert.best_sighting()
        return best.pk if best is not None else None
    return found  # type: ignore[return-value]


def _reference_photo_id(alert: Alert) -> int | None:
    if alert.subject_id is None:
        return None
    found = getattr(alert, "reference_photo_id", _UNSET)
    if found is _UNSET:
        photos = ReferencePhoto.objects.filter(subject_id=alert.subject_id, status=ReferencePhoto.Status.ACCEPTED)
        return photos.order_by("pk").values_list("pk", flat=True).first()
    return found  # type: ignore[return-value]


def serialize_alert(alert: Alert) -> dict[str, Any]:
    """A match names its subject, watchlist and score; a covered-face event names no one and says
    what covered the face (`covering`), with its camera's count of false alarms."""
    covered = alert.is_covered_event
    camera: dict[str, Any] = {"id": alert.camera_id, "name": alert.camera.name}
    best, photo = _best_sighting_id(alert), _reference_photo_id(alert)
    if covered:
        camera["false_alarms"] = covered_false_alarms(alert.camera_id)
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "status": alert.status,
        "dismiss_reason": alert.dismiss_reason,
        "response": alert.response,
        **_identity(alert),
        "covering": alert.covering or None,
        "camera": camera,
        "branch": {"id": alert.branch_id, "name": alert.branch.name},
        "bank": {"id": alert.bank_id, "name": alert.bank.name},
        "score": None if alert.score is None else round(alert.score, 4),
        "threshold": None if alert.threshold is None else round(alert.threshold, 4),
        "strength": strength(alert.score, alert.threshold),  # very_strong, strong, possible (alerts/strength.py)
        # A queue annotates n_sightings so that a page of alerts is not one count query per row.
        "sightings": getattr(alert, "n_sightings", None) or alert.sightings.count(),
        "created_at": alert.created_at.isoformat(),
        "last_seen_at": alert.last_seen_at.isoformat(),
        "version": alert.version,
        "images": {
            "probe": reverse("alert-image", args=[alert.pk, "probe"]) if alert.probe_crop else None,
            "frame": reverse("alert-image", args=[alert.pk, "frame"]) if alert.evidence_frame else None,
            # The face that scored the alert's score, and the subject's reference photo to compare it with.
            "best": reverse("sighting-image", args=[alert.pk, best, "face"]) if best else None,
            "reference": reverse("reference-photo", args=[alert.pk, photo]) if photo else None,
        },
        "url": reverse("alert-detail", args=[alert.pk]),
    }


def _identity(alert: Alert) -> dict[str, Any]:
    """Whom a match names; a covered-face event names no one."""
    subject, watchlist = alert.subject, alert.watchlist
    if subject is None or watchlist is None:
        return {"subject": None, "watchlist": None}
    return {
        "subject": {"id": subject.pk, "name": subject.full_name, "caution": subject.caution_flags},
        "watchlist": {
            "id": watchlist.pk,
            "name": watchlist.name,
            "colour": watchlist.colour,
            "sound": watchlist.sound,
            "requires_acknowledgement": watchlist.requires_acknowledgement,
            "priority": watchlist.priority,
        },
    }


def covered_false_alarms(camera_id: int) -> int:
    """How many covered-face events of this camera a reviewer called a false alarm: its precision in the field."""
    return Alert.objects.filter(
        camera_id=camera_id, kind=Alert.Kind.COVERED, dismiss_reason=Alert.DismissReason.FALSE_ALARM
    ).count()


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
        for_police=alert.status in Alert.POLICE_STATUSES,
        payload=serialize_alert(alert),
    )
    message = {"type": kind, "event_id": event.pk, "alert": event.payload}
    transaction.on_commit(lambda: publish(groups_for(event), message))
    enqueue("integrations.announce_alert_event", event.pk)  # webhooks and MQTT, after commit, off this thread
    return event
