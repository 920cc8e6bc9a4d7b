"""Covered-face events: agreement like a match, one event per person and cool-down, no identity claim,
their own review actions (each audited), false alarms counted per camera, police only on escalation."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from alerts.access import alerts_visible_to, events_visible_to
from alerts.actions import ReviewError, review_alert
from alerts.covered import observe_covered, purge_expired_pending_coverings
from alerts.feed import serialize_alert
from alerts.models import Alert, AlertEvent, PendingCovering
from audit.models import AuditEntry
from cameras.actions import create_camera
from tests.factories import make_alert, make_covered_event, make_covered_observation, make_subject


def _observe(obs, face_index=0):
    with transaction.atomic():
        return observe_covered(obs, face_index)


@pytest.fixture
def door(db):
    return create_camera("Saigon Bank", "District 1", "Door")[0]


def test_one_covered_frame_raises_nothing_and_a_second_frame_of_the_same_person_raises_one_event(door):
    first = make_covered_observation(door, ("mask",), person=1)
    assert _observe(first) == ("pending", None)
    assert _observe(first) == ("pending", None)  # the same frame again is not agreement
    assert not Alert.objects.exists() and PendingCovering.objects.count() == 1
    assert not AuditEntry.objects.filter(action__startswith="covered.").exists()

    second = make_covered_observation(
        door, ("mask", "sunglasses"), person=1, seen_at=first.seen_at + timedelta(seconds=1)
    )
    what, event = _observe(second)
    assert what == "raised" and event is not None
    assert event.kind == Alert.Kind.COVERED
    assert (event.subject_id, event.watchlist_id, event.score, event.threshold) == (None, None, None, None)
    assert set(event.covering_labels) == {"mask", "sunglasses"} and event.covering["scores"]["mask"] == 0.9
    assert sorted(event.sightings.values_list("frame_id", flat=True)) == sorted([first.frame_id, second.frame_id])
    assert not PendingCovering.objects.exists()
    entry = AuditEntry.objects.get(action="covered.raised")
    assert entry.detail["labels"] == event.covering_labels and "subject_id" not in entry.detail
    feed = AlertEvent.objects.get(alert=event, kind="alert.created").payload
    assert feed["kind"] == "covered" and feed["subject"] is None and feed["watchlist"] is None
    assert feed["score"] is None and feed["covering"]["labels"] == event.covering_labels


def test_two_different_covered_people_in_the_window_are_two_events_not_one(door):
    a1, b1 = make_covered_observation(door, person=1), make_covered_observation(door, ("helmet",), person=2)
    assert _observe(a1)[0] == "pending" and _observe(b1)[0] == "pending"
    later = a1.seen_at + timedelta(seconds=2)
    raised_a = _observe(make_covered_observation(door, person=1, seen_at=later))[1]
    raised_b = _observe(make_covered_observation(door, ("helmet",), person=2, seen_at=later))[1]
    assert raised_a is not None and raised_b is not None and raised_a.pk != raised_b.pk
    assert raised_b.covering_labels == ["helmet"]
    assert Alert.objects.filter(kind="covered").count() == 2


def test_the_same_person_again_during_the_cool_down_is_a_sighting_not_a_new_event(door, settings):
    event = make_covered_event(door, person=3)
    seen = event.last_seen_at + timedelta(seconds=settings.SIGHTING_INTERVAL_SECONDS + 5)
    what, same = _observe(make_covered_observation(door, ("hood",), person=3, seen_at=seen))
    assert what == "sighting" and same.pk == event.pk
    assert set(same.covering_labels) == {"mask", "hood"}
    assert Alert.objects.count() == 1 and event.sightings.count() == 3
    assert AuditEntry.objects.filter(action="covered.sighting_added", object_id=str(event.pk)).count() == 1

    after = event.last_seen_at + timedelta(seconds=settings.ALERT_COOLDOWN_SECONDS + 60)
    assert _observe(make_covered_observation(door, person=3, seen_at=after))[0] == "pending"


def test_covered_faces_at_another_camera_or_outside_the_window_do_not_agree(door, settings):
    other = create_camera("Saigon Bank", "District 1", "Side door")[0]
    first = make_covered_observation(door, person=4)
    late = make_covered_observation(
        door, person=4, seen_at=first.seen_at + timedelta(seconds=settings.AGREEMENT_WINDOW_SECONDS + 1)
    )
    elsewhere = make_covered_observation(other, person=4, seen_at=first.seen_at)
    assert [_observe(o)[0] for o in (first, late, elsewhere)] == ["pending"] * 3
    assert not Alert.objects.exists()


def test_a_hidden_face_needs_several_frames_and_makes_a_face_hidden_event(door, settings):
    settings.COVERED_HIDDEN_MIN_FRAMES = 3
    start = make_covered_observation(door, ("face_hidden",), person=None)
    results = [_observe(start)[0]]
    for step in (1, 2):
        obs = make_covered_observation(
            door, ("face_hidden",), person=None, seen_at=start.seen_at + timedelta(seconds=step)
        )
        results.append(_observe(obs)[0])
    assert results == ["pending", "pending", "raised"]
    event = Alert.objects.get(kind="covered")
    assert event.covering_labels == ["face_hidden"] and event.sightings.count() == 3
    assert not event.probe_crop  # no face was seen, so there is no face crop; the frame is kept
    assert event.evidence_frame
    # A covered face seen meanwhile is someone else's event, not a sighting of the hidden one.
    masked = make_covered_observation(door, person=5, seen_at=start.seen_at + timedelta(seconds=3))
    assert _observe(masked)[0] == "pending"


def test_the_database_refuses_a_covered_event_that_names_someone_or_a_match_that_names_no_one(door):
    subject = make_subject()
    event = make_covered_event(door)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.filter(pk=event.pk).update(subject=subject, watchlist=subject.watchlist)
    match = make_alert(door, subject)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.filter(pk=match.pk).update(score=None)


def test_asked_to_uncover_and_security_called_confirm_the_event_and_are_audited(door, cast):
    alice = cast["alice"]
    event = make_covered_event(door)
    event = review_alert(event, alice, "asked_to_uncover", version=event.version)
    assert (event.status, event.response, event.version) == ("confirmed", "asked_to_uncover", 2)
    event = review_alert(event, alice, "security_called", note="guard at the door", version=event.version)
    assert (event.status, event.response) == ("confirmed", "security_called")
    actions = list(AuditEntry.objects.filter(object_id=str(event.pk)).values_list("action", flat=True))
    assert "alert.asked_to_uncover" in actions and "alert.security_called" in actions
    payloads = AlertEvent.objects.filter(alert=event, kind="alert.updated").values_list("payload", flat=True)
    assert [p["response"] for p in payloads] == ["asked_to_uncover", "security_called"]


def test_false_alarms_dismiss_the_event_and_are_counted_on_its_camera(door, cast):
    other = create_camera("Saigon Bank", "District 1", "Side door")[0]
    alice = cast["alice"]
    for person in (1, 2):
        event = make_covered_event(door, person=person)
        review_alert(event, alice, "false_alarm", version=event.version)
    make_covered_event(other)
    event = Alert.objects.filter(camera=door).order_by("pk")[0]
    assert (event.status, event.dismiss_reason) == ("dismissed", "false_alarm")
    assert AuditEntry.objects.filter(action="alert.false_alarm").count() == 2
    assert serialize_alert(event)["camera"]["false_alarms"] == 2
    assert serialize_alert(Alert.objects.get(camera=other))["camera"]["false_alarms"] == 0


def test_match_actions_do_not_apply_to_covered_events_nor_covered_actions_to_matches(door, cast):
    alice = cast["alice"]
    event = make_covered_event(door)
    match = make_alert(door, make_subject())
    for alert, action in ((event, "confirm"), (event, "dismiss"), (match, "false_alarm"), (match, "asked_to_uncover")):
        with pytest.raises(ReviewError):
            review_alert(alert, alice, action, reason="other", version=alert.version)
    assert set(Alert.objects.values_list("status", flat=True)) == {"new"}


def test_the_police_see_a_covered_event_only_once_a_reviewer_escalates_it(door, cast):
    alice, paula = cast["alice"], cast["paula"]
    event = make_covered_event(door)
    assert not alerts_visible_to(paula).filter(pk=event.pk).exists()
    event = review_alert(event, alice, "security_called", version=event.version)
    assert not alerts_visible_to(paula).filter(pk=event.pk).exists()
    assert not events_visible_to(paula).filter(alert=event).exists()
    event = review_alert(event, alice, "escalate", version=event.version)
    assert alerts_visible_to(paula).filter(pk=event.pk).exists()
    assert events_visible_to(paula).filter(alert=event).count() == 1
    assert not alerts_visible_to(cast["charlie"]).filter(pk=event.pk).exists()


def test_covered_faces_that_never_agreed_are_purged_by_the_sweep(door, settings):
    _observe(make_covered_observation(door, person=1))
    assert purge_expired_pending_coverings() == 0
    PendingCovering.objects.update(created_at=PendingCovering.objects.get().created_at - timedelta(hours=1))
    assert purge_expired_pending_coverings() == 1 and not PendingCovering.objects.exists()


def test_the_review_page_of_a_covered_event_shows_the_labels_the_frame_and_its_own_actions(door, cast, client):
    event = make_covered_event(door, ("helmet", "sunglasses"))
    client.force_login(cast["alice"])
    page = client.get(f"/alerts/{event.pk}/").content.decode()
    assert "Covered-face event" in page and "helmet" in page and "sunglasses" in page
    assert f"/alerts/{event.pk}/image/frame" in page
    for action in ("asked_to_uncover", "security_called", "false_alarm"):
        assert f'value="{action}"' in page
    assert 'value="confirm"' not in page and "Reference photo" not in page and "Score" not in page

    response = client.post(f"/alerts/{event.pk}/review", {"action": "false_alarm", "version": event.version})
    assert response.status_code == 302
    assert Alert.objects.get(pk=event.pk).dismiss_reason == "false_alarm"
    assert (
        "This camera has 1 covered-face event called a false alarm."
        in client.get(f"/alerts/{event.pk}/").content.decode()
    )


def test_a_match_made_on_a_covered_face_says_so_on_its_review_page(door, cast, client):
    from alerts.actions import raise_alert
    from tests.factories import make_observation

    subject = make_subject()
    obs = make_observation(door, covering={"labels": ["mask"], "scores": {"mask": 0.97}})
    alert = raise_alert(subject, subject.watchlist, [obs])
    plain = make_alert(door, make_subject("Someone Else"))
    client.force_login(cast["alice"])
    assert "This match was made on a covered face (mask)" in client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "covered face" not in client.get(f"/alerts/{plain.pk}/").content.decode()
    assert client.get(f"/api/v1/alerts/{alert.pk}/").json()["covering"]["labels"] == ["mask"]


def test_the_api_shows_a_covered_event_with_no_identity_and_takes_its_actions(door, cast, client):
    event = make_covered_event(door)
    client.force_login(cast["alice"])
    body = client.get(f"/api/v1/alerts/{event.pk}/").json()
    assert body["kind"] == "covered" and body["subject"] is None and body["watchlist"] is None
    assert body["score"] is None and body["covering"]["labels"] == ["mask"]
    assert body["camera"]["false_alarms"] == 0
    answer = client.post(
        f"/api/v1/alerts/{event.pk}/review",
        {"action": "asked_to_uncover", "version": event.version},
        content_type="application/json",
    )
    assert answer.status_code == 200 and answer.json()["response"] == "asked_to_uncover"
    wrong = client.post(
        f"/api/v1/alerts/{event.pk}/review", {"action": "confirm", "version": 2}, content_type="application/json"
    )
    assert wrong.status_code == 400 and Alert.objects.get(pk=event.pk).version == 2


def test_an_escalated_covered_event_becomes_a_police_case_whose_evidence_names_no_one(door, cast):
    import io
    import json
    import zipfile

    from cases.actions import open_case
    from cases.export import build_evidence_zip

    alice, paula = cast["alice"], cast["paula"]
    event = make_covered_event(door, ("helmet",))
    event = review_alert(event, alice, "security_called", version=event.version)
    event = review_alert(event, alice, "escalate", version=event.version)
    case = open_case(event, paula, version=event.version)
    data, _ = build_evidence_zip(case, paula)
    archive = zipfile.ZipFile(io.BytesIO(data))
    meta = json.loads(archive.read("metadata.json"))
    assert meta["subject"] is None and meta["alert"]["covering"]["labels"] == ["helmet"]
    assert any(name.startswith("images/") for name in archive.namelist())  # the frame, others pixelated


def test_the_admin_lists_each_cameras_covered_false_alarms(door, cast, admin_client):
    for person in (1, 2, 3):
        event = make_covered_event(door, person=person)
        if person < 3:
            review_alert(event, cast["alice"], "false_alarm", version=event.version)
    page = admin_client.get("/admin/cameras/camera/").content.decode()
    assert "báo động nhầm về che mặt" in page.lower()  # the admin user reads Vietnamese
    assert '<td class="field-covered_false_alarms">2</td>' in page
    detail = admin_client.get(f"/admin/cameras/camera/{door.pk}/change/").content.decode()
    assert "báo động nhầm về che mặt" in detail.lower()


def test_the_camera_api_counts_each_cameras_covered_false_alarms(door, cast, client):
    for person in (1, 2):
        event = make_covered_event(door, person=person)
        review_alert(event, cast["alice"], "false_alarm" if person == 1 else "asked_to_uncover", version=event.version)
    client.force_login(cast["alice"])
    cameras = {c["id"]: c for c in client.get("/api/v1/cameras/").json()["results"]}
    assert cameras[door.pk]["covered_false_alarms"] == 1
