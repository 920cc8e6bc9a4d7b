"""Review transitions: each writes the row, the audit entry and the live event; stale versions conflict."""

import pytest
from django.test import Client
from django.utils import translation

from alerts.actions import ConflictError, NotAllowedError, ReviewError, review_alert
from alerts.models import Alert, AlertEvent
from audit.models import AuditEntry
from cameras.actions import create_camera
from tests.conftest import PASSWORD
from tests.factories import make_alert, make_subject


@pytest.fixture
def alert(cast, camera_with_token) -> Alert:
    return make_alert(camera_with_token[0], make_subject())


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_each_transition_writes_the_row_the_audit_entry_and_the_live_event(cast, alert):
    alice = cast["alice"]
    events_before = AlertEvent.objects.filter(alert=alert).count()
    alert = review_alert(alert, alice, "start_review", version=1)
    alert = review_alert(alert, alice, "confirm", note="same scar on the left cheek", version=2)
    alert = review_alert(alert, alice, "escalate", version=3)

    alert.refresh_from_db()
    assert (alert.status, alert.version, alert.reviewed_by) == (Alert.Status.ESCALATED, 4, alice)
    assert alert.note == "same scar on the left cheek"
    actions = list(
        AuditEntry.objects.filter(object_type="alerts.alert", object_id=str(alert.pk), actor=alice)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["alert.start_review", "alert.confirm", "alert.escalate"]
    events = list(AlertEvent.objects.filter(alert=alert).order_by("id"))[events_before:]
    assert [(e.kind, e.payload["status"], e.for_police) for e in events] == [
        ("alert.updated", "in_review", False),
        ("alert.updated", "confirmed", False),
        ("alert.updated", "escalated", True),
    ]


def test_the_second_of_two_reviewers_gets_a_conflict_not_a_silent_overwrite(cast, alert):
    review_alert(alert, cast["alice"], "confirm", version=1)
    with translation.override("en"), pytest.raises(ConflictError, match="changed by someone else") as caught:
        review_alert(alert, cast["bob"], "dismiss", reason="not_this_person", version=1)
    assert "alice" in str(caught.value)
    alert.refresh_from_db()
    assert (alert.status, alert.dismiss_reason, alert.version) == (Alert.Status.CONFIRMED, "", 2)
    assert not AuditEntry.objects.filter(action="alert.dismiss").exists()


def test_a_dismissal_needs_a_reason_and_keeps_it(cast, alert):
    with pytest.raises(ReviewError):
        review_alert(alert, cast["alice"], "dismiss", version=1)
    review_alert(alert, cast["alice"], "dismiss", reason="poor_image", version=1)
    alert.refresh_from_db()
    assert (alert.status, alert.dismiss_reason) == (Alert.Status.DISMISSED, "poor_image")
    assert AuditEntry.objects.get(action="alert.dismiss").detail["reason"] == "poor_image"


def test_an_alert_cannot_skip_a_step_and_escalating_a_new_one_says_to_confirm_it_first(cast, alert):
    with translation.override("en"), pytest.raises(ReviewError, match="Confirm the alert first"):
        review_alert(alert, cast["alice"], "escalate", version=1)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.NEW


@pytest.mark.parametrize("who", ["charlie", "paula", "audrey", "carol"])
def test_only_the_banks_own_security_staff_may_review(cast, alert, who):
    with pytest.raises(NotAllowedError):
        review_alert(alert, cast[who], "confirm", version=1)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.NEW and alert.version == 1


def test_branch_staff_cannot_review_another_branchs_alert(cast):
    camera, _ = create_camera("Saigon Bank", "District 3", "Door")
    other_branch = make_alert(camera, make_subject())
    with pytest.raises(NotAllowedError):
        review_alert(other_branch, cast["bob"], "confirm", version=1)


def test_the_review_page_shows_both_faces_the_score_and_the_shortcuts(cast, alert):
    response = _client(cast["bob"]).get(f"/alerts/{alert.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    sighting = alert.sightings.get()
    assert f"/alerts/{alert.pk}/sightings/{sighting.pk}/face" in page  # the best (only) sighting's face
    assert 'data-key="c"' in page and 'data-key="1"' in page
    assert "0.600" in page and "0.363" in page
    assert f"/alerts/{alert.pk}/sightings/{sighting.pk}/frame" in page
    assert AuditEntry.objects.filter(action="alert.viewed", actor=cast["bob"], object_id=str(alert.pk)).exists()


def test_the_review_form_answers_a_stale_version_with_409_and_a_clear_message(cast, alert):
    alice, bob = _client(cast["alice"]), _client(cast["bob"])
    assert alice.post(f"/alerts/{alert.pk}/review", {"action": "confirm", "version": 1}).status_code == 302
    response = bob.post(f"/alerts/{alert.pk}/review", {"action": "dismiss", "reason": "duplicate", "version": 1})
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == Alert.Status.CONFIRMED


def test_outsiders_cannot_see_or_post_to_the_review_page(cast, alert):
    assert _client(cast["charlie"]).get(f"/alerts/{alert.pk}/").status_code == 404
    assert (
        _client(cast["charlie"]).post(f"/alerts/{alert.pk}/review", {"action": "confirm", "version": 1}).status_code
        == 404
    )
    assert _client(cast["paula"]).get(f"/alerts/{alert.pk}/").status_code == 404  # not escalated yet
    response = _client(cast["audrey"]).post(f"/alerts/{alert.pk}/review", {"action": "confirm", "version": 1})
    assert response.status_code == 403
    anonymous = Client().post(f"/alerts/{alert.pk}/review", {"action": "confirm", "version": 1})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    alert.refresh_from_db()
    assert alert.status == Alert.Status.NEW


def test_a_reviewer_signs_in_and_confirms_by_form(cast, alert):
    client = Client()
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    response = client.post(f"/alerts/{alert.pk}/review", {"action": "confirm", "version": 1}, follow=True)
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.status == Alert.Status.CONFIRMED and alert.reviewed_by == cast["alice"]


def test_an_auditor_reads_the_review_page_without_any_action_and_the_read_is_audited(cast, alert):
    page = _client(cast["audrey"]).get(f"/alerts/{alert.pk}/").content.decode()
    assert 'id="review-form"' not in page and 'id="case-form"' not in page
    assert alert.subject.full_name in page
    assert AuditEntry.objects.filter(action="alert.viewed", actor=cast["audrey"], object_id=str(alert.pk)).exists()
