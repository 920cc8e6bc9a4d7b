from alerts.models import Alert, AlertEvent, Sighting
from audit.models import AuditEntry
from tests.factories import make_alert, make_observation, make_subject


def test_raising_an_alert_writes_the_row_its_sighting_the_audit_entry_and_the_feed_event(camera_with_token):
    camera, _ = camera_with_token
    subject = make_subject()
    alert = make_alert(camera, subject, score=0.71)
    assert Alert.objects.get() == alert
    assert alert.bank_id == camera.branch.bank_id and alert.branch_id == camera.branch_id
    assert alert.probe_crop and alert.evidence_frame and alert.probe_embedding
    assert alert.sightings.count() == 1
    assert AuditEntry.objects.filter(action="alert.raised", object_id=str(alert.pk)).count() == 1
    event = AlertEvent.objects.get(alert=alert)
    assert event.kind == "alert.created" and event.payload["score"] == 0.71


def test_a_sighting_from_the_same_frame_is_added_once(camera_with_token):
    from alerts.actions import add_sighting

    camera, _ = camera_with_token
    alert = make_alert(camera, make_subject(), score=0.6, with_images=False)
    obs = make_observation(camera, score=0.8, with_images=False)
    assert add_sighting(alert, obs) is not None
    assert add_sighting(alert, obs) is None
    assert Sighting.objects.filter(alert=alert).count() == 2
    alert.refresh_from_db()
    assert alert.score == 0.8 and alert.version == 1
    assert list(AlertEvent.objects.filter(alert=alert).values_list("kind", flat=True)) == [
        "alert.created",
        "alert.updated",
    ]
    assert AuditEntry.objects.filter(action="alert.sighting_added").count() == 1
