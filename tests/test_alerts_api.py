"""REST alerts API: scoped, filterable, paginated; review with a version; in the OpenAPI schema."""

import pytest
from django.test import Client

from alerts.models import Alert
from audit.models import AuditEntry
from cameras.actions import create_camera
from tests.factories import make_alert, make_subject


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alerts(cast, camera_with_token):
    subject = make_subject()
    mekong, _ = create_camera("Mekong Bank", "Can Tho", "Door")
    return {
        "ours": [make_alert(camera_with_token[0], subject) for _ in range(3)],
        "theirs": make_alert(mekong, subject),
    }


def test_the_list_is_scoped_ordered_and_paginated(cast, alerts):
    alice = _client(cast["alice"])
    first = alice.get("/api/v1/alerts/", {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = alice.get(first["next"]).json()
    ids = [a["id"] for a in first["results"] + second["results"]]
    assert ids == [a.pk for a in alerts["ours"]]
    assert AuditEntry.objects.filter(action="alerts.listed", actor=cast["alice"]).count() == 2
    charlie = _client(cast["charlie"]).get("/api/v1/alerts/").json()
    assert [a["id"] for a in charlie["results"]] == [alerts["theirs"].pk]


def test_the_list_filters_by_status_and_branch(cast, alerts):
    alice = _client(cast["alice"])
    first = alerts["ours"][0]
    Alert.objects.filter(pk=first.pk).update(status=Alert.Status.DISMISSED)
    assert [a["id"] for a in alice.get("/api/v1/alerts/", {"status": "dismissed"}).json()["results"]] == [first.pk]
    assert alice.get("/api/v1/alerts/", {"status": "new,in_review"}).json()["count"] == 2
    assert alice.get("/api/v1/alerts/", {"branch": first.branch_id + 1000}).json()["count"] == 0


def test_detail_is_audited_and_hidden_from_another_bank(cast, alerts):
    alert = alerts["ours"][0]
    body = _client(cast["bob"]).get(f"/api/v1/alerts/{alert.pk}/").json()
    assert body["id"] == alert.pk and body["version"] == 1 and body["watchlist"]["colour"]
    assert AuditEntry.objects.filter(action="alert.viewed", actor=cast["bob"], object_id=str(alert.pk)).exists()
    assert _client(cast["charlie"]).get(f"/api/v1/alerts/{alert.pk}/").status_code == 404
    assert _client(cast["paula"]).get(f"/api/v1/alerts/{alert.pk}/").status_code == 404
    assert Client().get(f"/api/v1/alerts/{alert.pk}/").status_code == 403
    assert Client().get("/api/v1/alerts/").status_code == 403


def test_review_through_the_api_and_a_stale_version_gets_409(cast, alerts):
    alert = alerts["ours"][0]
    url = f"/api/v1/alerts/{alert.pk}/review"
    alice, bob = _client(cast["alice"]), _client(cast["bob"])
    ok = alice.post(url, {"action": "confirm", "version": 1}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "confirmed" and ok.json()["version"] == 2
    stale = bob.post(url, {"action": "dismiss", "reason": "other", "note": "a staff member", "version": 1}, content_type="application/json")
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["error"]
    alert.refresh_from_db()
    assert alert.status == Alert.Status.CONFIRMED


def test_review_input_is_validated(cast, alerts):
    url = f"/api/v1/alerts/{alerts['ours'][0].pk}/review"
    alice = _client(cast["alice"])
    assert alice.post(url, {"action": "explode", "version": 1}, content_type="application/json").status_code == 400
    missing_reason = alice.post(url, {"action": "dismiss", "version": 1}, content_type="application/json")
    assert missing_reason.status_code == 400 and "dismissed" in missing_reason.json()["error"]


@pytest.mark.parametrize(("who", "status"), [("charlie", 404), ("audrey", 403), ("carol", 404), ("paula", 404)])
def test_outsiders_cannot_review_through_the_api(cast, alerts, who, status):
    alert = alerts["ours"][0]
    response = _client(cast[who]).post(
        f"/api/v1/alerts/{alert.pk}/review", {"action": "confirm", "version": 1}, content_type="application/json"
    )
    assert response.status_code == status
    alert.refresh_from_db()
    assert alert.status == Alert.Status.NEW


def test_the_alerts_and_cases_endpoints_are_in_the_openapi_schema(cast):
    schema = _client(cast["alice"]).get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/alerts/",
        "/api/v1/alerts/{alert_id}/",
        "/api/v1/alerts/{alert_id}/review",
        "/api/v1/cases/",
        "/api/v1/cases/{case_id}/",
        "/api/v1/cases/{case_id}/export",
    ):
        assert path in schema["paths"], path
    review = schema["paths"]["/api/v1/alerts/{alert_id}/review"]["post"]
    assert "409" in review["responses"]
