"""Thin tasks over integrations: announcing events, delivering webhooks, publishing to MQTT. All of
them run on the "outbound" lane (bankwatch/jobs.py), never on a recognition job's thread."""

from typing import Any

from celery import shared_task
from django.conf import settings
from django.urls import reverse

from integrations import mqtt, outbound, webhooks

OUTBOUND = {"lane": "outbound", "ignore_result": True, "soft_time_limit": 60, "time_limit": 90}


def _alert_audience(alert: Any, for_police: bool) -> outbound.Audience:
    return outbound.Audience(
        bank_id=alert.bank_id,
        branch_id=alert.branch_id,
        bank_name=alert.bank.name,
        branch_name=alert.branch.name,
        jurisdiction=alert.bank.jurisdiction,
        for_police=for_police,
    )


def onvif_face(alert: Any, data: dict[str, Any], occurred_at: str) -> dict[str, Any]:
    """ONVIF's face-recognition event fields (Profile M) where they fit, for MQTT consumers."""
    x, y, w, h = (alert.box or [0, 0, 0, 0])[:4]
    images = data.get("images") or {}
    subject = data.get("subject") or {}
    return {
        "Topic": "tns1:RuleEngine/FaceRecognition/Recognition" if subject else "tns1:RuleEngine/FaceDetection/Covered",
        "UtcTime": occurred_at,
        "Source": {"VideoSourceConfigurationToken": f"camera-{alert.camera_id}", "Rule": (data.get("watchlist") or {}).get("name")},
        "Data": {
            "Likelihood": data.get("score"),
            "EnrollmentID": f"subject-{subject['id']}" if subject else None,
            "Label": subject.get("name") or ",".join((data.get("covering") or {}).get("labels", [])),
            "BoundingBox": {"left": x, "top": y, "right": x + w, "bottom": y + h},
            "ImageUri": images.get("probe"),
        },
    }


@shared_task(name="integrations.announce_alert_event", **OUTBOUND)
def announce_alert_event(event_id: int) -> list[int]:
    """A feed event (alerts/feed.py emit) to the webhooks and MQTT: alert.created (covered.created
    for a covered-face event), alert.updated, alert.unacknowledged."""
    from alerts.models import AlertEvent

    event = AlertEvent.objects.select_related("alert__bank", "alert__branch").filter(pk=event_id).first()
    if event is None:
        return []  # purged, or its transaction was a test's
    alert = event.alert
    kind = "covered.created" if event.kind == "alert.created" and alert.kind == "covered" else event.kind
    # Links an integrator's API key opens (the pages' own image links need a signed-in session).
    images = {
        kind: settings.PUBLIC_URL + reverse("api-alert-image", args=[alert.pk, kind]) if path else None
        for kind, path in (event.payload.get("images") or {}).items()
    }
    data = {**event.payload, "images": images}
    data["url"] = settings.PUBLIC_URL + event.payload.get("url", "")
    message = outbound.envelope(kind, data, event.created_at.isoformat())
    extra = {"onvif": onvif_face(alert, data, message["occurred_at"])} if kind.endswith(".created") else {}
    return outbound.announce(message, _alert_audience(alert, event.for_police), mqtt=extra)


@shared_task(name="integrations.announce_case", **OUTBOUND)
def announce_case(event_type: str, case_id: int) -> list[int]:
    """case.opened / case.closed (cases/actions.py): only the police of the jurisdiction and the bank hear it."""
    from cases.models import Case

    case = Case.objects.select_related("alert__bank", "alert__branch").filter(pk=case_id).first()
    if case is None:
        return []
    data = {
        "id": case.pk,
        "reference": case.reference,
        "status": case.status,
        "alert": case.alert_id,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "outcome": case.outcome or None,
    }
    return outbound.announce(outbound.envelope(event_type, data), _alert_audience(case.alert, for_police=True))


@shared_task(name="integrations.announce_camera", **OUTBOUND)
def announce_camera(payload: dict[str, Any]) -> list[int]:
    """camera.updated (cameras/health.py change_health): its health, never a credential."""
    from cameras.models import Camera

    camera = Camera.objects.select_related("branch__bank").filter(pk=payload["id"]).first()
    if camera is None:
        return []
    audience = outbound.Audience(
        bank_id=camera.branch.bank_id,
        branch_id=camera.branch_id,
        bank_name=camera.branch.bank.name,
        branch_name=camera.branch.name,
        jurisdiction=camera.branch.bank.jurisdiction,
        for_police=False,
    )
    return outbound.announce(outbound.envelope("camera.updated", payload), audience)


@shared_task(name="integrations.deliver_webhook", **OUTBOUND)
def deliver_webhook(delivery_id: int) -> str | None:
    return webhooks.deliver(delivery_id)


@shared_task(name="integrations.retry_webhooks", **OUTBOUND)
def retry_webhooks() -> int:
    return webhooks.retry_due()


@shared_task(name="integrations.purge_webhook_log", **OUTBOUND)
def purge_webhook_log() -> int:
    return webhooks.purge_log()


@shared_task(name="integrations.publish_mqtt", **OUTBOUND)
def publish_mqtt(bank: str, branch: str, event: dict[str, Any]) -> str:
    return mqtt.publish(bank, branch, event)
