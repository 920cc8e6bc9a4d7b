"""API keys for integrators: hashed, scoped like a user of their role, revocable, expiring,
throttled, audited under the key's name, and described in the OpenAPI schema."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEntry
from cameras.actions import create_camera
from integrations.actions import create_api_key, revoke_api_key
from integrations.models import ApiKey
from tests.factories import make_alert, make_subject


def keyed(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


@pytest.fixture
def banks(cast):
    subject = make_subject()
    saigon, _ = create_camera("Saigon Bank", "District 1", "Lobby")
    mekong, _ = create_camera("Mekong Bank", "Can Tho", "Door")
    return {"saigon": (saigon, make_alert(saigon, subject)), "mekong": (mekong, make_alert(mekong, subject))}


def test_the_command_prints_the_key_once_and_stores_only_its_hash(db):
    out = StringIO()
    call_command("create_api_key", "--name", "vms-d1", "--role", "bank_security", "--bank", "Saigon Bank", stdout=out)
    printed = json.loads(out.getvalue().splitlines()[-1])
    api_key = ApiKey.objects.get(prefix=printed["key_id"])
    assert printed["key"].startswith(printed["key_id"] + ".")
    assert printed["key"] not in api_key.hashed_key and api_key.hashed_key.startswith("sha512$$")
    assert api_key.user.username == "vms-d1" and str(api_key.user.bank) == "Saigon Bank"
    assert not api_key.user.has_usable_password() and not api_key.user.is_staff
    assert AuditEntry.objects.filter(action="api_key.created", object_id=api_key.pk).exists()


def test_a_key_of_bank_a_reads_bank_a_alerts_and_cameras_and_gets_404_for_bank_b(banks):
    _, key = create_api_key("saigon-vms", "bank_security", bank_name="Saigon Bank")
    client = keyed(key)
    listed = client.get("/api/v1/alerts/").json()
    assert [a["id"] for a in listed["results"]] == [banks["saigon"][1].pk]
    assert client.get(f"/api/v1/alerts/{banks['saigon'][1].pk}/").status_code == 200
    assert client.get(f"/api/v1/alerts/{banks['mekong'][1].pk}/").status_code == 404
    cameras = client.get("/api/v1/cameras/").json()
    assert [c["id"] for c in cameras["results"]] == [banks["saigon"][0].pk]
    assert client.get(f"/api/v1/cameras/{banks['saigon'][0].pk}/").status_code == 200
    assert client.get(f"/api/v1/cameras/{banks['mekong'][0].pk}/").status_code == 404


def test_a_branch_key_sees_only_its_branch(banks):
    other, _ = create_camera("Saigon Bank", "District 3", "Door")
    theirs = make_alert(other, make_subject("Tran Thi B"))
    _, key = create_api_key("d1-panel", "bank_security", bank_name="Saigon Bank", branch_names=("District 1",))
    assert keyed(key).get(f"/api/v1/alerts/{theirs.pk}/").status_code == 404
    assert keyed(key).get(f"/api/v1/alerts/{banks['saigon'][1].pk}/").status_code == 200


def test_reads_with_a_key_are_audited_under_the_keys_name(banks):
    api_key, key = create_api_key("saigon-vms", "bank_security", bank_name="Saigon Bank")
    alert = banks["saigon"][1]
    keyed(key).get(f"/api/v1/alerts/{alert.pk}/")
    entry = AuditEntry.objects.get(action="alert.viewed", object_id=str(alert.pk))
    assert entry.actor_label == "saigon-vms" and entry.actor == api_key.user


def test_a_review_with_a_key_moves_the_alert_as_that_role_would(banks):
    _, key = create_api_key("saigon-vms", "bank_security", bank_name="Saigon Bank")
    alert = banks["saigon"][1]
    response = keyed(key).post(
        f"/api/v1/alerts/{alert.pk}/review",
        json.dumps({"action": "start_review", "version": alert.version}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content  # no CSRF token: a key is no cookie
    alert.refresh_from_db()
    assert alert.status == "in_review" and alert.reviewed_by.username == "saigon-vms"


@pytest.mark.parametrize("how", ["revoked", "expired", "unknown", "tampered"])
def test_a_revoked_expired_or_unknown_key_gets_401(banks, how):
    api_key, key = create_api_key("saigon-vms", "bank_security", bank_name="Saigon Bank")
    assert keyed(key).get("/api/v1/alerts/").status_code == 200
    if how == "revoked":
        assert revoke_api_key(api_key)
    elif how == "expired":
        ApiKey.objects.filter(pk=api_key.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
    elif how == "unknown":
        key = "AbCdEfGh.not-a-key-we-made"
    else:
        key = key[:-1] + ("A" if key[-1] != "A" else "B")
    response = keyed(key).get("/api/v1/alerts/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Api-Key")
    assert response.json() == {"error": "unknown, revoked or expired API key"}


def test_revoking_is_audited_and_final(db):
    api_key, _ = create_api_key("old-panel", "bank_security", bank_name="Saigon Bank")
    out = StringIO()
    call_command("revoke_api_key", api_key.prefix, stdout=out)
    assert json.loads(out.getvalue())["revoked"] is True
    assert AuditEntry.objects.filter(action="api_key.revoked", object_id=api_key.pk).count() == 1
    assert not revoke_api_key(ApiKey.objects.get(pk=api_key.pk))
    assert not User.objects.get(pk=api_key.user_id).is_active


def test_an_expiry_in_the_past_or_a_taken_name_is_refused(cast):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="past"):
        create_api_key("late", "auditor", expires=timezone.now() - timedelta(days=1))
    with pytest.raises(ValidationError, match="exists already"):
        create_api_key("alice", "auditor")


def test_each_key_is_throttled_on_its_own(banks, settings):
    settings.API_KEY_RATE = "3/minute"
    _, first = create_api_key("busy", "bank_security", bank_name="Saigon Bank")
    _, second = create_api_key("quiet", "bank_security", bank_name="Saigon Bank")
    answers = [keyed(first).get("/api/v1/cameras/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert keyed(second).get("/api/v1/cameras/").status_code == 200


def test_a_session_without_a_key_still_gets_403_not_a_key_challenge(db):
    response = Client().get("/api/v1/alerts/")
    assert response.status_code == 403 and "WWW-Authenticate" not in response


def test_the_openapi_schema_describes_the_api_key_scheme(banks):
    _, key = create_api_key("schema-reader", "auditor")
    schema = keyed(key).get("/api/schema/", {"format": "json"}).json()
    scheme = schema["components"]["securitySchemes"]["apiKey"]
    assert scheme == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": scheme["description"],
    } and scheme["description"].startswith("Api-Key <key>")
    assert {"apiKey": []} in schema["paths"]["/api/v1/alerts/"]["get"]["security"]


def test_a_police_key_opens_and_closes_a_case_of_its_jurisdiction_only(cast, banks):
    from alerts.actions import review_alert

    alert = banks["saigon"][1]
    alert = review_alert(alert, cast["alice"], "confirm", version=alert.version)
    alert = review_alert(alert, cast["alice"], "escalate", version=alert.version)
    _, key = create_api_key("hcmc-police", "police", jurisdiction="Ho Chi Minh City")
    _, elsewhere = create_api_key("hanoi-police", "police", jurisdiction="Ha Noi")
    body = json.dumps({"alert": alert.pk, "version": alert.version})
    assert keyed(elsewhere).post("/api/v1/cases/", body, content_type="application/json").status_code in (403, 404)
    opened = keyed(key).post("/api/v1/cases/", body, content_type="application/json")
    assert opened.status_code == 201, opened.content
    case_id = opened.json()["id"]
    alert.refresh_from_db()
    closed = keyed(key).post(
        f"/api/v1/cases/{case_id}/close",
        json.dumps({"outcome": "arrested", "version": alert.version}),
        content_type="application/json",
    )
    assert closed.status_code == 200, closed.content
    assert AuditEntry.objects.filter(action="case.closed", actor_label="hcmc-police").exists()


def test_a_key_fetches_the_image_links_of_its_banks_alerts_only_each_fetch_audited(banks):
    _, key = create_api_key("saigon-vms", "bank_security", bank_name="Saigon Bank")
    ours, theirs = banks["saigon"][1], banks["mekong"][1]
    response = keyed(key).get(f"/api/v1/alerts/{ours.pk}/images/probe")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.getvalue().startswith(b"\xff\xd8")
    assert "no-store" in response["Cache-Control"]
    assert AuditEntry.objects.filter(action="alert.image_viewed", actor_label="saigon-vms").count() == 1
    assert keyed(key).get(f"/api/v1/alerts/{theirs.pk}/images/probe").status_code == 404
    assert keyed(key).get(f"/api/v1/alerts/{ours.pk}/images/embedding").status_code == 404
    assert Client().get(f"/api/v1/alerts/{ours.pk}/images/probe").status_code == 403
