"""A review that cannot go wrong by one key: "not this person" is asked again and can be undone by its
reviewer within a minute, "other" needs a note, escalating an unconfirmed alert says to confirm it first;
the page shows what a guard must know about the subject and every move with who, when, why."""

import pytest
from django.test import Client
from django.utils import translation

from alerts.actions import ReviewError, review_alert, undo_dismissal
from alerts.models import Alert, AlertEvent
from audit.models import AuditEntry
from enrollment.models import CounterExample, GalleryVersion
from tests.factories import make_alert, make_sighting, make_subject


@pytest.fixture
def alert(cast, camera_with_token) -> Alert:
    return make_alert(camera_with_token[0], make_subject())


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(user, alert: Alert, **data: str):
    return _client(user).post(f"/alerts/{alert.pk}/review", {"version": str(alert.version), **data})


def test_not_this_person_from_the_page_is_asked_again_and_changes_nothing_until_confirmed(cast, alert):
    asked = _post(cast["alice"], alert, action="dismiss", reason="not_this_person", note="looks older")
    page = asked.content.decode()
    assert asked.status_code == 200
    assert 'id="confirm-not-this-person"' in page and 'id="confirm-not-this-person" hidden' not in page
    assert 'value="looks older"' in page  # the note typed survives the question
    alert.refresh_from_db()
    assert (alert.status, alert.version) == (Alert.Status.NEW, 1)
    assert not CounterExample.objects.exists()
    assert not AuditEntry.objects.filter(action="alert.dismiss").exists()

    confirmed = _post(cast["alice"], alert, action="dismiss", reason="not_this_person", confirmed="1")
    assert confirmed.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.dismiss_reason) == (Alert.Status.DISMISSED, "not_this_person")
    assert CounterExample.objects.get().source_alert_id == alert.pk


def test_the_reviewer_undoes_their_not_this_person_within_the_minute_and_the_counter_example_goes(cast, alert):
    alice = cast["alice"]
    alert = review_alert(alert, alice, "start_review", version=1)
    alert = review_alert(alert, alice, "dismiss", reason="not_this_person", version=2)
    gallery_before = GalleryVersion.current()
    events_before = AlertEvent.objects.filter(alert=alert).count()

    alert = undo_dismissal(alert, alice, version=alert.version)

    alert.refresh_from_db()
    assert (alert.status, alert.dismiss_reason, alert.version) == (Alert.Status.IN_REVIEW, "", 4)
    assert not CounterExample.objects.exists()
    assert GalleryVersion.current() != gallery_before  # every recognition process stops excluding that face
    undo = AuditEntry.objects.get(action="alert.undo_dismissal")
    assert (undo.actor, undo.detail["from_status"], undo.detail["to_status"], undo.detail["reason"]) == (
        alice,
        "dismissed",
        "in_review",
        "not_this_person",
    )
    assert AuditEntry.objects.filter(action="counter_example.withdrawn", actor=alice).count() == 1
    assert AlertEvent.objects.filter(alert=alert).count() == events_before + 1


def test_the_undo_button_on_the_page_takes_the_dismissal_back(cast, alert):
    alice = cast["alice"]
    alert = review_alert(alert, alice, "dismiss", reason="duplicate", version=1)
    page = _client(alice).get(f"/alerts/{alert.pk}/").content.decode()
    assert 'id="undo-form"' in page and 'data-key="z"' in page
    assert _post(alice, alert, action="undo_dismissal").status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.dismiss_reason) == (Alert.Status.NEW, "")


def test_another_reviewer_cannot_undo_a_dismissal_nor_see_the_undo_button(cast, alert):
    alert = review_alert(alert, cast["alice"], "dismiss", reason="not_this_person", version=1)
    assert 'id="undo-form"' not in _client(cast["bob"]).get(f"/alerts/{alert.pk}/").content.decode()
    with pytest.raises(ReviewError):
        undo_dismissal(alert, cast["bob"], version=alert.version)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.DISMISSED
    assert CounterExample.objects.count() == 1
    assert not AuditEntry.objects.filter(action="alert.undo_dismissal").exists()


def test_an_undo_after_the_minute_is_refused_and_changes_nothing(cast, alert, settings):
    alert = review_alert(alert, cast["alice"], "dismiss", reason="not_this_person", version=1)
    settings.UNDO_DISMISS_SECONDS = 0
    with translation.override("en"), pytest.raises(ReviewError, match="within a minute"):
        undo_dismissal(alert, cast["alice"], version=alert.version)
    alert.refresh_from_db()
    assert (alert.status, alert.version) == (Alert.Status.DISMISSED, 2)
    assert CounterExample.objects.count() == 1


def test_dismissing_as_other_without_a_note_is_refused_and_changes_nothing(cast, alert):
    with translation.override("en"), pytest.raises(ReviewError, match="needs a note"):
        review_alert(alert, cast["alice"], "dismiss", reason="other", version=1)
    alert.refresh_from_db()
    assert (alert.status, alert.version) == (Alert.Status.NEW, 1)
    review_alert(alert, cast["alice"], "dismiss", reason="other", note="a staff member of the branch", version=1)
    alert.refresh_from_db()
    assert (alert.status, alert.note) == (Alert.Status.DISMISSED, "a staff member of the branch")


def test_the_review_page_shows_the_caution_flags_notes_aliases_and_case_reference(cast, camera_with_token):
    subject = make_subject()
    subject.armed, subject.notes = True, "May be armed: carried a knife in the 2025 robbery"
    subject.aliases, subject.case_reference = "Tư Dao, Knife", "HCMC-PC-2025-0117"
    subject.save()
    alert = make_alert(camera_with_token[0], subject)
    page = _client(cast["bob"]).get(f"/alerts/{alert.pk}/").content.decode()
    assert 'id="caution-flags"' in page and "may be armed" in page and "may be violent" not in page
    assert "May be armed: carried a knife in the 2025 robbery" in page
    assert "Tư Dao, Knife" in page and "HCMC-PC-2025-0117" in page


def test_the_history_names_who_did_what_when_with_the_reason_and_the_note(cast, alert):
    alice = cast["alice"]
    alert = review_alert(alert, alice, "start_review", version=1)
    review_alert(alert, alice, "dismiss", reason="other", note="the branch manager's brother", version=2)
    page = _client(cast["bob"]).get(f"/alerts/{alert.pk}/").content.decode()
    history = page.split('id="history"', 1)[1]
    assert [line for line in ("Alert raised", "Review started", "Dismissed") if line in history] == [
        "Alert raised",
        "Review started",
        "Dismissed",
    ]
    dismissed = history.split('data-action="alert.dismiss"', 1)[1].split("</tr>", 1)[0]
    assert "alice" in dismissed and "Other" in dismissed and "the branch manager&#x27;s brother" in dismissed
    assert "Alert viewed" not in history  # looking is on the audit page, not a move


def test_the_face_beside_the_score_is_the_best_sightings_face(cast, alert):
    better = make_sighting(alert, score=0.72)
    assert better is not None
    make_sighting(alert, score=0.5)
    alert.refresh_from_db()
    assert alert.score == pytest.approx(0.72)
    page = _client(cast["bob"]).get(f"/alerts/{alert.pk}/").content.decode()
    probe = page.split('id="probe"', 1)[0].rsplit("<img", 1)[1]
    assert f"/alerts/{alert.pk}/sightings/{better.pk}/face" in probe
    assert "score 0.720" in page and "0.720" in page.split('id="strength"', 1)[1].split("</p>", 1)[0]
