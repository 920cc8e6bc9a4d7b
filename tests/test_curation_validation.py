"""One function per write: the admin and the API refuse the same bad watchlist or subject with the same words."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEntry
from enrollment import actions
from enrollment.models import Subject, Watchlist

THRESHOLD_LOW = (
    "A match threshold of -1.0 is below the floor of 0.313: strangers would raise alerts. "
    "Leave it empty to use the default, 0.363."
)
COLOUR = "Write the colour as #rrggbb, for example #b3261e."


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _admin_errors(response, field: str) -> list[str]:
    assert response.status_code == 200, "the form should have been shown again"
    return list(response.context["adminform"].form.errors[field])


@pytest.fixture
def _shipped_floor(settings):
    settings.RECOGNITION_THRESHOLD = 0.363
    settings.MIN_WATCHLIST_THRESHOLD = 0.313


@pytest.mark.usefixtures("_shipped_floor")
def test_the_admin_and_the_api_refuse_a_threshold_below_the_floor_with_the_same_sentence(client, cast):
    client.force_login(cast["carol"])
    form = {
        "name": "Lax",
        "agency": "Police",
        "colour": "#b3261e",
        "sound": "siren",
        "threshold": "-1.0",
        "priority": "1",
    }
    assert _admin_errors(client.post(reverse("admin:enrollment_watchlist_add"), form), "threshold") == [THRESHOLD_LOW]
    response = _api(cast["carol"]).post("/api/v1/watchlists/", {"name": "Lax", "threshold": -1.0}, format="json")
    assert response.status_code == 400 and response.json()["threshold"] == [THRESHOLD_LOW]
    with pytest.raises(ValidationError) as refused:
        actions.create_watchlist("Lax", threshold=-1.0)
    assert refused.value.message_dict["threshold"] == [THRESHOLD_LOW]
    assert not Watchlist.objects.exists()


@pytest.mark.usefixtures("_shipped_floor")
def test_a_threshold_at_the_floor_is_accepted_and_one_changed_below_it_later_is_refused(cast):
    watchlist = actions.create_watchlist("Calibrated", threshold=0.313)
    response = _api(cast["carol"]).patch(f"/api/v1/watchlists/{watchlist.pk}/", {"threshold": 0.2}, format="json")
    assert response.status_code == 400 and "below the floor of 0.313" in response.json()["threshold"][0]
    watchlist.refresh_from_db()
    assert watchlist.threshold == 0.313


def test_the_admin_and_the_api_refuse_a_bad_colour_with_the_same_sentence(client, cast):
    client.force_login(cast["carol"])
    form = {"name": "Red", "agency": "Police", "colour": "red", "sound": "siren"}
    assert _admin_errors(client.post(reverse("admin:enrollment_watchlist_add"), form), "colour") == [COLOUR]
    response = _api(cast["carol"]).post("/api/v1/watchlists/", {"name": "Red", "colour": "red"}, format="json")
    assert response.status_code == 400 and response.json()["colour"] == [COLOUR]
    assert not Watchlist.objects.exists()


def test_the_admin_and_the_api_refuse_an_expiry_date_that_has_passed_with_the_same_sentence(client, cast):
    watchlist = actions.create_watchlist("Wanted")
    past = timezone.now() - timedelta(days=3)
    expected = [
        f"The expiry date {timezone.localtime(past).date().isoformat()} has already passed: "
        "give a date in the future, or leave it empty."
    ]
    client.force_login(cast["carol"])
    form = {
        "watchlist": watchlist.pk,
        "full_name": "Tran Van B",
        "status": "active",
        "expires_at_0": timezone.localtime(past).strftime("%Y-%m-%d"),
        "expires_at_1": timezone.localtime(past).strftime("%H:%M:%S"),
    }
    assert _admin_errors(client.post(reverse("admin:enrollment_subject_add"), form), "expires_at") == expected
    response = _api(cast["carol"]).post(
        "/api/v1/subjects/",
        {"watchlist": watchlist.pk, "full_name": "Tran Van B", "expires_at": past.isoformat()},
        format="json",
    )
    assert response.status_code == 400 and response.json()["expires_at"] == expected
    assert not Subject.objects.exists()


def test_a_subject_whose_expiry_passed_on_its_own_can_still_be_edited(cast):
    subject = actions.create_subject(
        actions.create_watchlist("Wanted"), "Tran Van B", expires_at=timezone.now() + timedelta(days=1)
    )
    Subject.objects.filter(pk=subject.pk).update(expires_at=timezone.now() - timedelta(days=1))
    response = _api(cast["carol"]).patch(f"/api/v1/subjects/{subject.pk}/", {"notes": "seen"}, format="json")
    assert response.status_code == 200, response.json()
    assert Subject.objects.get(pk=subject.pk).notes == "seen"


def test_a_watchlist_changed_in_the_admin_goes_through_save_watchlist_and_is_audited_with_its_banks(
    client, cast, monkeypatch
):
    from organizations.actions import get_or_create_branch

    branch = get_or_create_branch("Saigon Bank", "District 1")
    watchlist = actions.create_watchlist("Wanted")
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(actions, "save_watchlist", _spy(actions.save_watchlist, calls))
    client.force_login(cast["carol"])
    form = {
        "name": "Wanted",
        "agency": "Police",
        "colour": "#123456",
        "sound": "chime",
        "threshold": "0.4",
        "priority": str(Watchlist.Priority.NORMAL.value),
        "banks": [branch.bank_id],
        "is_active": "on",
    }
    response = client.post(reverse("admin:enrollment_watchlist_change", args=[watchlist.pk]), form)
    assert response.status_code == 302
    watchlist.refresh_from_db()
    assert (watchlist.threshold, watchlist.colour, list(watchlist.banks.all())) == (0.4, "#123456", [branch.bank])
    assert len(calls) == 1
    entry = AuditEntry.objects.get(action="watchlist.changed", object_id=str(watchlist.pk))
    assert entry.actor == cast["carol"] and {"threshold", "colour", "banks"} <= set(entry.detail["fields"])


def test_the_watchlist_form_shows_the_default_threshold_and_a_colour_picker(client, cast):
    client.force_login(cast["carol"])
    page = client.get(reverse("admin:enrollment_watchlist_add")).content.decode()
    assert 'type="color"' in page
    assert "Empty: the system default, 0.363" in page


def _spy(function, calls):
    def wrapper(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)

    return wrapper
