"""Police cases: open from an escalation, notes, close; evidence export a court can verify."""

import hashlib
import io
import json
import re
import zipfile

import pytest
from django.test import Client

from alerts.actions import NotAllowedError, ReviewError, review_alert
from alerts.models import Alert, AlertEvent
from audit.models import AuditEntry
from cases.actions import add_case_note, close_case, open_case
from cases.models import Case
from tests.factories import make_alert, make_sighting, make_subject


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def escalated(cast, camera_with_token) -> Alert:
    alert = make_alert(camera_with_token[0], make_subject())
    make_sighting(alert)
    review_alert(alert, cast["alice"], "confirm", version=1)
    return review_alert(alert, cast["alice"], "escalate", version=2)


def test_a_case_is_opened_noted_and_closed_with_audit_and_live_events(cast, escalated):
    paula = cast["paula"]
    case = open_case(escalated, paula, version=3, note="Patrol 12 sent")
    add_case_note(case, paula, "Suspect left before patrol arrived")
    case = close_case(case, paula, "Not found; footage kept", version=4)

    escalated.refresh_from_db()
    assert escalated.status == Alert.Status.CLOSED and escalated.version == 5
    assert case.status == Case.Status.CLOSED and case.closed_by == paula and case.outcome.startswith("Not found")
    assert list(case.notes.values_list("text", flat=True)) == ["Patrol 12 sent", "Suspect left before patrol arrived"]
    actions = set(AuditEntry.objects.filter(actor=paula).values_list("action", flat=True))
    assert {"alert.case_opened", "case.opened", "case.note_added", "alert.closed", "case.closed"} <= actions
    statuses = [e.payload["status"] for e in AlertEvent.objects.filter(alert=escalated, for_police=True)]
    assert statuses == ["escalated", "case_opened", "closed"]


def test_a_closed_case_takes_no_more_notes(cast, escalated):
    case = close_case(open_case(escalated, cast["paula"], version=3), cast["paula"], "done", version=4)
    with pytest.raises(ReviewError):
        add_case_note(case, cast["paula"], "late note")


@pytest.mark.parametrize("who", ["alice", "charlie", "audrey", "carol"])
def test_only_the_police_liaison_opens_cases(cast, escalated, who):
    with pytest.raises(NotAllowedError):
        open_case(escalated, cast[who], version=3)
    assert not Case.objects.exists()


def test_the_police_liaison_of_another_jurisdiction_sees_nothing(cast, escalated):
    from accounts.actions import create_user

    hanoi = create_user("hung", "police", "correct-horse-battery", jurisdiction="Ha Noi")
    with pytest.raises(NotAllowedError):
        open_case(escalated, hanoi, version=3)
    assert _client(hanoi).get(f"/alerts/{escalated.pk}/").status_code == 404


def test_the_evidence_zip_holds_images_metadata_and_a_manifest_that_checks_out(cast, escalated):
    case = open_case(escalated, cast["paula"], version=3, note="for the prosecutor")
    response = _client(cast["paula"]).get(f"/cases/{case.pk}/export")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"metadata.json", "SHA256SUMS", "images/probe.jpg", "images/frame.jpg"} <= names
    assert sum(name.startswith("images/sighting-") for name in names) == 4  # two sightings, face and frame
    manifest = archive.read("SHA256SUMS").decode().splitlines()
    listed = {}
    for line in manifest:
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert set(listed) == names - {"SHA256SUMS"}
    for name, digest in listed.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
    meta = json.loads(archive.read("metadata.json"))
    assert meta["alert"]["id"] == escalated.pk and meta["exported_by"] == "paula"
    assert meta["subject"]["legal_basis"] == "Warrant 12/2026" and len(meta["sightings"]) == 2
    assert meta["case"]["notes"][0]["text"] == "for the prosecutor"
    entry = AuditEntry.objects.get(action="case.evidence_exported")
    manifest_sha = hashlib.sha256(archive.read("SHA256SUMS")).hexdigest()
    assert entry.detail["manifest_sha256"] == manifest_sha == response["X-Manifest-SHA256"]
    assert entry.actor == cast["paula"]


@pytest.mark.parametrize(("who", "status"), [("alice", 404), ("charlie", 404), ("audrey", 403), ("carol", 404)])
def test_nobody_but_the_police_liaison_exports_evidence(cast, escalated, who, status):
    case = open_case(escalated, cast["paula"], version=3)
    assert _client(cast[who]).get(f"/cases/{case.pk}/export").status_code == status
    assert _client(cast[who]).get(f"/api/v1/cases/{case.pk}/export").status_code == status
    assert Client().get(f"/cases/{case.pk}/export").status_code == 302
    assert not AuditEntry.objects.filter(action="case.evidence_exported").exists()


def test_the_inbox_lists_escalations_and_cases_for_the_police_only(cast, escalated):
    page = _client(cast["paula"]).get("/police/")
    assert page.status_code == 200 and f"/alerts/{escalated.pk}/" in page.content.decode()
    assert _client(cast["alice"]).get("/police/").status_code == 403
    assert _client(cast["charlie"]).get("/police/").status_code == 403
    assert Client().get("/police/").status_code == 302


def test_the_police_work_a_case_through_the_pages(cast, escalated):
    paula = _client(cast["paula"])
    assert 'id="case-form"' in paula.get(f"/alerts/{escalated.pk}/").content.decode()
    response = paula.post(f"/alerts/{escalated.pk}/open-case", {"version": 3, "note": "first"})
    case = Case.objects.get(alert=escalated)
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert paula.post(f"/cases/{case.pk}/notes", {"text": "second"}).status_code == 302
    assert paula.post(f"/cases/{case.pk}/close", {"outcome": "arrested", "version": 4}).status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.notes.count() == 2
    assert AuditEntry.objects.filter(action="case.viewed").count() == 0
    assert paula.get(f"/cases/{case.pk}/").status_code == 200
    assert AuditEntry.objects.filter(action="case.viewed", actor=cast["paula"]).count() == 1
    # The bank's staff cannot read or write police notes.
    alice = _client(cast["alice"])
    assert alice.get(f"/cases/{case.pk}/").status_code == 404
    assert alice.post(f"/cases/{case.pk}/notes", {"text": "hi"}).status_code == 404


def test_the_cases_api_opens_notes_closes_and_refuses_stale_versions(cast, escalated):
    paula = _client(cast["paula"])
    opened = paula.post("/api/v1/cases/", {"alert": escalated.pk, "version": 3}, content_type="application/json")
    assert opened.status_code == 201, opened.content
    case_id = opened.json()["id"]
    again = paula.post("/api/v1/cases/", {"alert": escalated.pk, "version": 3}, content_type="application/json")
    assert again.status_code == 409
    noted = paula.post(f"/api/v1/cases/{case_id}/notes", {"text": "seen"}, content_type="application/json")
    assert [n["text"] for n in noted.json()["notes"]] == ["seen"]
    closed = paula.post(
        f"/api/v1/cases/{case_id}/close", {"outcome": "ok", "version": 4}, content_type="application/json"
    )
    assert closed.json()["status"] == "closed"
    assert [c["id"] for c in paula.get("/api/v1/cases/").json()["results"]] == [case_id]
    assert _client(cast["charlie"]).get(f"/api/v1/cases/{case_id}/").status_code == 404
    assert _client(cast["alice"]).get("/api/v1/cases/").json()["results"] == []


@pytest.mark.parametrize("who", ["alice", "charlie", "audrey", "carol", None])
def test_outsiders_can_neither_open_note_nor_close_a_case(cast, escalated, who):
    case = open_case(escalated, cast["paula"], version=3)
    client = _client(cast[who]) if who else Client()
    json = "application/json"
    attempts = [
        client.post(f"/alerts/{escalated.pk}/open-case", {"version": 4}),
        client.post(f"/cases/{case.pk}/notes", {"text": "x"}),
        client.post(f"/cases/{case.pk}/close", {"outcome": "x", "version": 4}),
        client.get(f"/cases/{case.pk}/"),
        client.post("/api/v1/cases/", {"alert": escalated.pk, "version": 4}, content_type=json),
        client.post(f"/api/v1/cases/{case.pk}/notes", {"text": "x"}, content_type=json),
        client.post(f"/api/v1/cases/{case.pk}/close", {"outcome": "x", "version": 4}, content_type=json),
    ]
    for response in attempts:
        if who == "audrey" and response.status_code == 200:
            assert response.wsgi_request.method == "GET"  # auditors read the case page, nothing more
            continue
        assert response.status_code in (302, 403, 404), (who, response.wsgi_request.path, response.status_code)
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN and case.notes.count() == 0
    assert Case.objects.count() == 1


def test_an_exported_zip_verifies_later_and_a_changed_one_does_not(cast, escalated, tmp_path):
    from django.core.management import CommandError, call_command

    from cases.export import verify_evidence_zip

    case = open_case(escalated, cast["paula"], version=3)
    data = _client(cast["paula"]).get(f"/cases/{case.pk}/export").content
    result = verify_evidence_zip(data)
    assert result["ok"] and result["exported_by"] == "paula" and result["case_id"] == case.pk

    # Swap one image: the zip no longer verifies, and the command says which file.
    original = zipfile.ZipFile(io.BytesIO(data))
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as archive:
        for name in original.namelist():
            archive.writestr(name, b"\xff\xd8 edited" if name == "images/probe.jpg" else original.read(name))
    path = tmp_path / "evidence.zip"
    path.write_bytes(tampered.getvalue())
    with pytest.raises(CommandError, match=re.escape("images/probe.jpg was changed")):
        call_command("verify_evidence", str(path))
