"""Data protection under Law 91/2025 (privacy/): the impact assessment from the live system, requests
from the people concerned searched by photo, legal holds, the breach register and the notice sign."""

import io
import json
import logging
import os
import re
import shutil
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from alerts.actions import NotAllowedError, review_alert
from alerts.models import Alert
from audit.models import AuditEntry
from cases.actions import open_case, place_hold, release_hold
from cases.models import LegalHold
from enrollment.actions import add_counter_example, add_photo, enroll_photo
from enrollment.models import CounterExample, FaceTemplate, ReferencePhoto, Subject
from organizations.models import Bank
from privacy.actions import delete_for_request, produce_report, record_breach, record_request, set_notice
from privacy.models import Breach, DataRequest, PrivacyReport
from retention.jobs import run_all
from tests.factories import make_alert, make_covered_event, make_sighting, make_subject, random_embedding

SETTINGS_SOURCE = (Path(settings.BASE_DIR) / "bankwatch" / "settings.py").read_text()
RETENTION_VARIABLES = sorted(set(re.findall(r'"(BANKWATCH_RETENTION_\w+)"', SETTINGS_SOURCE)))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def row_counts() -> dict[str, int]:
    """Every table of the project, by model: a search that keeps nothing changes none but the audit log."""
    from django.apps import apps

    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if not m._meta.proxy}


def enrolled(faces_dev: Path, identity: str, photo: str, name: str) -> Subject:
    """A subject enrolled from a real photo through the real quality gate and engine."""
    subject = make_subject(name)
    stored = add_photo(subject, (faces_dev / identity / photo).read_bytes(), photo)
    assert enroll_photo(stored.pk).status == ReferencePhoto.Status.ACCEPTED
    return subject


# --- 1. The impact assessment ---------------------------------------------------------------


def test_the_report_counts_match_the_database_and_name_every_retention_setting(
    cast, camera_with_token, tmp_path, capsys, settings
):
    camera, _ = camera_with_token
    settings.RETENTION_DISMISSED_ALERT_DAYS = 45
    subject = make_subject("Le Van C")
    make_subject("Pham Van D", watchlist="Wanted")
    FaceTemplate.objects.create(
        photo=ReferencePhoto.objects.create(subject=subject, image="enrollment/photos/x.jpg"),
        subject=subject,
        model_id="SFace+yunet",
        embedding=random_embedding(1).tobytes(),
    )
    first = make_alert(camera, subject)
    dismissed = make_alert(camera, make_subject("Vo Van E"))
    review_alert(dismissed, cast["alice"], "dismiss", reason="poor_image", version=dismissed.version)
    make_covered_event(camera)
    add_counter_example(subject, random_embedding(9), created_by=cast["alice"], source_alert_id=first.pk)

    out = tmp_path / "report.html"
    call_command("privacy_report", "--format", "html", "--out", str(out), "--language", "en")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert list(line) == ["out", "subjects", "templates", "alerts", "produced_at"]
    assert line["out"] == str(out)
    assert line["subjects"] == Subject.objects.count() == 3
    assert line["templates"] == FaceTemplate.objects.count() == 1
    assert line["alerts"] == Alert.objects.count() == 3
    html = out.read_text()
    assert f'id="count-subjects">{Subject.objects.count()}<' in html
    assert 'id="count-covered">1<' in html
    for status in Alert.Status.values:
        assert f'id="alerts-{status}">{Alert.objects.filter(status=status).count()}<' in html
    assert (
        f'id="count-counter-examples">{CounterExample.objects.count()}<' in html and CounterExample.objects.count() == 1
    )
    assert RETENTION_VARIABLES and len(RETENTION_VARIABLES) >= 9
    for variable in RETENTION_VARIABLES:
        value = getattr(settings, variable.removeprefix("BANKWATCH_"))
        assert re.search(rf"<code>{variable}</code></td><td class=\"n\">{value}</td>", html), variable
    assert 'BANKWATCH_RETENTION_DISMISSED_ALERT_DAYS</code></td><td class="n">45<' in html
    produced = PrivacyReport.objects.get()
    assert line["produced_at"] == produced.produced_at.isoformat() and produced.produced_at.strftime("%Y-%m-%d") in html
    assert "Warrant 12/2026: 1" in html  # the legal basis of each watchlist, counted
    assert "tests/test_access_matrix.py::test_every_route_answers_every_role_as_the_matrix_says" in html
    assert AuditEntry.objects.filter(action="privacy.report_produced", object_id=str(produced.pk)).exists()
    assert "webhooks: none" in html


def test_the_report_names_each_webhooks_host_and_the_s3_region(cast, settings):
    from integrations.models import Webhook

    Webhook.objects.create(bank=Bank.objects.get(name="Saigon Bank"), url="https://vms.saigonbank.vn/hook", secret="-")
    settings.S3_BUCKET = "bankwatch-evidence"
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "x", "OPTIONS": {"region_name": "ap-southeast-1"}}}
    settings.MQTT_URL = "mqtts://bw:s3cret@broker.saigonbank.vn:8883"
    _, content = produce_report("html", language="en")
    html = content.decode()
    assert "webhook vms.saigonbank.vn" in html and "Saigon Bank" in html
    assert "MQTT broker.saigonbank.vn" in html and "s3cret" not in html
    assert "S3 AWS" in html and "ap-southeast-1" in html and "s3://bankwatch-evidence" in html


@pytest.mark.skipif(
    shutil.which(settings.PRIVACY_CHROMIUM) is None, reason="chromium is not installed (make browser-deps)"
)
def test_the_pdf_report_is_a_pdf_of_the_same_page(cast, tmp_path, capsys):
    pdfium = pytest.importorskip("pypdfium2")
    make_subject("Le Van C")
    out = tmp_path / "report.pdf"
    call_command("privacy_report", "--format", "pdf", "--out", str(out), "--language", "en")
    assert out.read_bytes().startswith(b"%PDF")
    document = pdfium.PdfDocument(str(out))
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert len(document) >= 2
    for variable in RETENTION_VARIABLES:
        assert variable in text.replace("\r\n", "").replace("\n", "")
    download = client_for(cast["dora"]).post("/admin/privacy/privacyreport/assessment/", {"format": "pdf"})
    assert download["Content-Type"] == "application/pdf" and download.content.startswith(b"%PDF")
    assert PrivacyReport.objects.filter(format="pdf", produced_by=cast["dora"]).exists()


def test_the_six_month_reminder_appears_until_an_assessment_is_produced(cast, settings):
    dora, carol = client_for(cast["dora"]), client_for(cast["carol"])
    assert 'id="privacy-reminder"' in dora.get("/admin/").content.decode()  # none produced yet
    assert 'id="privacy-reminder"' not in carol.get("/admin/").content.decode()

    produce_report("html", actor=cast["dora"], now=timezone.now() - timedelta(days=100))
    assert 'id="privacy-reminder"' not in dora.get("/admin/").content.decode()

    PrivacyReport.objects.update(produced_at=timezone.now() - timedelta(days=190))
    page = dora.get("/admin/").content.decode()
    assert 'id="privacy-reminder"' in page and "more than six months ago" in page


def test_the_assessment_page_is_the_officers_alone_and_producing_it_is_recorded(cast):
    for name in ("carol", "audrey", "alice"):
        assert client_for(cast[name]).get("/admin/privacy/privacyreport/assessment/").status_code in (302, 403)
    dora = client_for(cast["dora"])
    page = dora.get("/admin/privacy/privacyreport/assessment/")
    assert page.status_code == 200 and "BANKWATCH_RETENTION_COVERED_HOURS" in page.content.decode()
    assert not PrivacyReport.objects.exists()  # looking is audited, not a produced assessment
    assert AuditEntry.objects.filter(action="privacy.report_viewed", actor=cast["dora"]).exists()
    download = dora.post("/admin/privacy/privacyreport/assessment/", {"format": "html"})
    assert download.status_code == 200 and download["Cache-Control"] == "private, no-store"
    assert PrivacyReport.objects.get().produced_by == cast["dora"]


# --- 2. Requests from the people concerned --------------------------------------------------


def test_a_request_gets_its_legal_deadline_and_an_audit_entry(cast, settings):
    settings.PRIVACY_REQUEST_DEADLINE_HOURS = 72
    received = timezone.now() - timedelta(hours=1)
    request = record_request("deletion", "Tran Thi B", received, actor=cast["dora"])
    assert request.deadline == received + timedelta(hours=72) and request.status == DataRequest.Status.OPEN
    assert AuditEntry.objects.get(action="privacy.request_recorded").object_id == str(request.pk)
    with pytest.raises(PermissionDenied):
        record_request("access", "X", received, actor=cast["carol"])
    assert DataRequest.objects.count() == 1


def test_a_search_with_another_photo_of_an_enrolled_person_finds_them_and_keeps_nothing(
    cast, faces_dev, capsys, caplog, settings, tmp_path
):
    subject = enrolled(faces_dev, "jennifer_aniston", "01.png", "Jennifer Aniston")
    enrolled(faces_dev, "hugh_laurie", "02.png", "Hugh Laurie")
    probe = faces_dev / "jennifer_aniston" / "03.png"
    before_rows, before_files = row_counts(), media_files()
    temp_before = set(os.listdir(tempfile.gettempdir()))
    audit_before = AuditEntry.objects.count()
    caplog.set_level(logging.DEBUG)
    caplog.clear()  # only the search's own lines: enrolling logs a gallery rebuild (the duplicate-face check)

    call_command("subject_access", "--photo", str(probe))
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert [m["subject_id"] for m in result["matches"]] == [subject.pk]
    assert result["matches"][0]["subject"] == "Jennifer Aniston" and result["matches"][0]["watchlist"] == "Bank robbers"
    assert result["matches"][0]["score"] >= settings.RECOGNITION_THRESHOLD
    assert result["alerts"] == 0 and result["counter_examples"] == 0
    # Nothing of the photo stays: no row but the audit entry of the search (ids only), no file, no log line.
    after = row_counts()
    assert after.pop("audit.AuditEntry") == audit_before + 1
    assert {k: v for k, v in before_rows.items() if k != "audit.AuditEntry"} == after
    assert media_files() == before_files
    assert set(os.listdir(tempfile.gettempdir())) - temp_before == set()
    entry = AuditEntry.objects.get(action="privacy.subject_access_search")
    assert entry.detail == {"subjects": [subject.pk], "alerts": [], "counter_examples": []}
    assert "03.png" not in caplog.text and str(probe) not in caplog.text
    assert not [r for r in caplog.records if r.name.split(".")[0] in ("privacy", "recognition", "enrollment", "audit")]


def test_the_admin_search_finds_the_face_keeps_ids_on_the_request_and_nothing_of_the_photo(cast, faces_dev, caplog):
    subject = enrolled(faces_dev, "jennifer_aniston", "01.png", "Jennifer Aniston")
    request = record_request("access", "Jennifer Aniston", timezone.now(), actor=cast["dora"])
    dora = client_for(cast["dora"])
    files_before = media_files()
    temp_before = set(os.listdir(tempfile.gettempdir()))
    caplog.set_level(logging.DEBUG)
    photo = (faces_dev / "jennifer_aniston" / "04.png").read_bytes()
    upload = io.BytesIO(photo)
    upload.name = "requester-face.png"

    response = dora.post(f"/admin/privacy/datarequest/{request.pk}/answer/", {"step": "search", "photo": upload})

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.found == {"subjects": [subject.pk], "alerts": [], "counter_examples": []}
    assert media_files() == files_before and set(os.listdir(tempfile.gettempdir())) - temp_before == set()
    assert "requester-face" not in caplog.text
    refused = client_for(cast["carol"]).post(f"/admin/privacy/datarequest/{request.pk}/answer/", {"step": "search"})
    assert refused.status_code in (302, 403)


def test_the_search_upload_never_spills_to_a_temporary_file_and_needs_the_csrf_token(
    cast, faces_dev, settings, monkeypatch
):
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    enrolled(faces_dev, "jennifer_aniston", "01.png", "Jennifer Aniston")
    request = record_request("access", "Jennifer Aniston", timezone.now(), actor=cast["dora"])
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1  # Django's default handlers would write this upload to disk
    spilled: list[str] = []
    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", lambda self, *a, **k: spilled.append("temp"))
    url = f"/admin/privacy/datarequest/{request.pk}/answer/"

    def post(client: Client) -> int:
        upload = io.BytesIO((faces_dev / "jennifer_aniston" / "02.png").read_bytes())
        upload.name = "p.png"
        return client.post(url, {"step": "search", "photo": upload}).status_code

    checked = Client(enforce_csrf_checks=True)
    checked.force_login(cast["dora"])
    assert post(checked) == 403  # no CSRF token
    assert post(client_for(cast["dora"])) == 302
    request.refresh_from_db()
    assert request.found["subjects"] and spilled == []


def test_an_access_request_exports_what_is_held_about_the_face(cast, faces_dev, camera_with_token):
    camera, _ = camera_with_token
    subject = enrolled(faces_dev, "jennifer_aniston", "01.png", "Jennifer Aniston")
    alert = make_alert(camera, subject)
    request = record_request("access", "Jennifer Aniston", timezone.now(), actor=cast["dora"])
    dora = client_for(cast["dora"])
    upload = io.BytesIO((faces_dev / "jennifer_aniston" / "02.png").read_bytes())
    upload.name = "p.png"
    dora.post(f"/admin/privacy/datarequest/{request.pk}/answer/", {"step": "search", "photo": upload})

    response = dora.post(f"/admin/privacy/datarequest/{request.pk}/answer/", {"step": "export"})

    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    metadata = json.loads(archive.read("metadata.json"))
    assert [s["full_name"] for s in metadata["subjects"]] == ["Jennifer Aniston"]
    assert [a["id"] for a in metadata["alerts"]] == [alert.pk]
    assert (
        archive.read(metadata["subjects"][0]["photos"][0]) == (faces_dev / "jennifer_aniston" / "01.png").read_bytes()
    )
    assert "SHA256SUMS" in archive.namelist()
    request.refresh_from_db()
    assert request.status == DataRequest.Status.ANSWERED
    assert AuditEntry.objects.filter(action="privacy.request_exported", object_id=str(request.pk)).exists()


def test_a_deletion_request_removes_templates_and_photos_bytes_gone_except_what_a_hold_keeps(
    cast, faces_dev, camera_with_token
):
    camera, _ = camera_with_token
    subject = enrolled(faces_dev, "jennifer_aniston", "01.png", "Jennifer Aniston")
    photo_names = [
        str(n) for p in ReferencePhoto.objects.filter(subject=subject) for n in (p.image.name, p.face_crop.name)
    ]
    free = make_alert(camera, subject)
    make_sighting(free)
    held = make_alert(camera, subject)
    make_sighting(held)
    held = review_alert(held, cast["alice"], "confirm", version=held.version)
    held = review_alert(held, cast["alice"], "escalate", version=held.version)
    open_case(held, cast["paula"], version=held.version)
    free_names = alert_files(free)
    held_names = alert_files(held)
    assert all(default_storage.exists(n) for n in photo_names + free_names + held_names)
    request = record_request("deletion", "Jennifer Aniston", timezone.now(), actor=cast["dora"])
    from privacy.actions import subject_access_search

    subject_access_search(
        (faces_dev / "jennifer_aniston" / "02.png").read_bytes(), data_request=request, actor=cast["dora"]
    )
    assert request.found["alerts"] == sorted([free.pk, held.pk])

    summary = delete_for_request(request, actor=cast["dora"])

    assert summary["kept_by_hold"] == [held.pk] and summary["alerts_purged"] == 1
    assert not FaceTemplate.objects.filter(subject=subject).exists()
    assert not ReferencePhoto.objects.filter(subject=subject).exists()
    assert not any(default_storage.exists(n) for n in photo_names + free_names)
    assert all(default_storage.exists(n) for n in held_names)  # the open case's evidence stays
    assert Alert.objects.get(pk=free.pk).probe_embedding is None
    assert Subject.objects.get(pk=subject.pk).status == Subject.Status.REMOVED
    request.refresh_from_db()
    assert request.status == DataRequest.Status.ANSWERED and f"#{held.pk}" in request.answer
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"privacy.subject_data_deleted", "privacy.alert_data_deleted", "privacy.request_deleted"} <= actions


def alert_files(alert: Alert) -> list[str]:
    names = [alert.probe_crop.name, alert.evidence_frame.name]
    for sighting in alert.sightings.all():
        names += [sighting.face_crop.name, sighting.frame_image.name]
    return [str(n) for n in names if n]


# --- 3. Legal holds -------------------------------------------------------------------------


def test_opening_a_case_places_a_hold_on_its_alert(cast, camera_with_token):
    camera, _ = camera_with_token
    alert = make_alert(camera, make_subject())
    alert = review_alert(alert, cast["alice"], "confirm", version=alert.version)
    alert = review_alert(alert, cast["alice"], "escalate", version=alert.version)
    case = open_case(alert, cast["paula"], version=alert.version)
    hold = LegalHold.objects.get(case=case)
    assert hold.alert_id == alert.pk and hold.is_active
    assert AuditEntry.objects.get(action="hold.placed").object_id == str(hold.pk)


def test_retention_skips_a_held_alert_lists_it_and_purges_it_once_the_hold_is_released(
    cast, camera_with_token, settings
):
    camera, _ = camera_with_token
    settings.RETENTION_DISMISSED_ALERT_DAYS = 30
    alert = make_alert(camera, make_subject())
    make_sighting(alert)
    alert = review_alert(alert, cast["alice"], "dismiss", reason="poor_image", version=alert.version)
    names = alert_files(alert)
    hold = place_hold(alert, cast["dora"], "police letter 55/2026 asks to keep it")

    result = run_all(timezone.now() + timedelta(days=31))

    assert result["dismissed_alerts_purged"] == 0 and all(default_storage.exists(n) for n in names)
    assert result["held"] == [
        {"hold_id": hold.pk, "alert_id": alert.pk, "case": None, "placed_at": hold.placed_at.isoformat()}
    ]
    with pytest.raises(NotAllowedError):
        release_hold(hold, cast["alice"], "no longer needed")
    release_hold(hold, cast["dora"], "the police withdrew their request")
    entry = AuditEntry.objects.get(action="hold.released")
    assert entry.object_id == str(hold.pk) and entry.actor == cast["dora"] and entry.detail["reason"]

    result = run_all(timezone.now() + timedelta(days=31))
    assert result["dismissed_alerts_purged"] == 1 and result["held"] == []
    assert not any(default_storage.exists(n) for n in names)


# --- 4. Breaches ----------------------------------------------------------------------------


def test_a_breach_is_registered_with_the_audit_log_around_it(cast):
    AuditEntry.objects.create(actor_label="mallory", action="alerts.viewed", object_type="alerts.alert", object_id="7")
    breach = record_breach(
        Breach(
            what="a reviewer's laptop was stolen with a session open",
            found_at=timezone.now() + timedelta(seconds=1),
            data_affected="alert crops of one branch",
            people_affected=3,
            notifications="Ministry of Public Security (A05), by e-mail, the same day",
        ),
        actor=cast["dora"],
    )
    assert any(e["actor"] == "mallory" and e["action"] == "alerts.viewed" for e in breach.audit_excerpt)
    assert AuditEntry.objects.get(action="privacy.breach_recorded").object_id == str(breach.pk)
    page = client_for(cast["dora"]).get(f"/admin/privacy/breach/{breach.pk}/change/").content.decode()
    assert "mallory" in page


# --- 5. Notice ------------------------------------------------------------------------------


def test_the_banks_notice_makes_an_a4_sign_in_vietnamese_and_english(cast):
    bank = Bank.objects.get(name="Saigon Bank")  # alice's bank
    set_notice(
        bank,
        "Chi nhánh này sử dụng camera nhận diện khuôn mặt.",
        "This branch uses face recognition cameras.",
        actor=cast["dora"],
    )
    assert AuditEntry.objects.get(action="privacy.notice_changed").object_id == str(bank.pk)
    page = client_for(cast["dora"]).get(f"/admin/privacy/notice/{bank.pk}/sign/").content.decode()
    assert "Chi nhánh này sử dụng camera nhận diện khuôn mặt." in page and "This branch uses face recognition" in page
    assert "size: A4" in page and "Đang vận hành nhận diện khuôn mặt" in page
    assert client_for(cast["carol"]).get(f"/admin/privacy/notice/{bank.pk}/sign/").status_code in (302, 403)


# --- The officer's admin pages, end to end -------------------------------------------------


def test_the_officer_records_answers_holds_and_registers_through_the_admin(cast, camera_with_token):
    camera, _ = camera_with_token
    dora = client_for(cast["dora"])
    received = timezone.now() - timedelta(days=5)
    response = dora.post(
        "/admin/privacy/datarequest/add/",
        {
            "kind": "access",
            "requester": "Tran Thi B",
            "contact": "0903 000 000",
            "received_at_0": timezone.localtime(received).strftime("%Y-%m-%d"),
            "received_at_1": timezone.localtime(received).strftime("%H:%M:%S"),
            "details": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    request = DataRequest.objects.get(requester="Tran Thi B")
    assert request.recorded_by == cast["dora"] and request.deadline < timezone.now()
    assert "overdue" in dora.get("/admin/privacy/datarequest/").content.decode()

    answered = dora.post(
        f"/admin/privacy/datarequest/{request.pk}/answer/",
        {"step": "refused", "answer": "Listed under warrant 12/2026."},
    )
    assert answered.status_code == 302
    request.refresh_from_db()
    assert request.status == DataRequest.Status.REFUSED and request.answer == "Listed under warrant 12/2026."

    alert = make_alert(camera, make_subject())
    assert dora.post("/admin/cases/legalhold/add/", {"alert": alert.pk, "reason": "police letter 9"}).status_code == 302
    hold = LegalHold.objects.get(alert=alert)
    assert hold.placed_by == cast["dora"] and hold.case is None
    assert dora.post(f"/admin/cases/legalhold/{hold.pk}/release/", {"reason": "letter withdrawn"}).status_code == 302
    hold.refresh_from_db()
    assert not hold.is_active and hold.released_by == cast["dora"] and hold.release_reason == "letter withdrawn"

    found = timezone.localtime(timezone.now() + timedelta(seconds=1))
    response = dora.post(
        "/admin/privacy/breach/add/",
        {
            "what": "export left on a shared drive",
            "found_at_0": found.strftime("%Y-%m-%d"),
            "found_at_1": found.strftime("%H:%M:%S"),
            "data_affected": "one evidence zip",
            "people_affected": 1,
            "actions_taken": "deleted",
            "notifications": "A05 the same day",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    breach = Breach.objects.get()
    assert breach.recorded_by == cast["dora"] and any(e["action"] == "hold.released" for e in breach.audit_excerpt)

    bank = Bank.objects.get(name="Saigon Bank")
    response = dora.post(
        f"/admin/privacy/notice/{bank.pk}/change/",
        {"recognition_notice_vi": "Có camera nhận diện.", "recognition_notice_en": "Recognition cameras."},
    )
    assert response.status_code == 302
    bank.refresh_from_db()
    assert bank.recognition_notice_en == "Recognition cameras."
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "privacy.request_recorded",
        "privacy.request_answered",
        "hold.placed",
        "hold.released",
        "privacy.breach_recorded",
        "privacy.notice_changed",
    }


def test_the_case_page_shows_its_hold_and_its_police_liaison_releases_it_with_a_reason(cast, camera_with_token):
    camera, _ = camera_with_token
    alert = make_alert(camera, make_subject())
    alert = review_alert(alert, cast["alice"], "confirm", version=alert.version)
    alert = review_alert(alert, cast["alice"], "escalate", version=alert.version)
    case = open_case(alert, cast["paula"], version=alert.version)
    paula = client_for(cast["paula"])
    assert 'id="hold"' in paula.get(f"/cases/{case.pk}/").content.decode()

    paula.post(f"/cases/{case.pk}/release-hold", {"reason": ""})
    assert LegalHold.objects.get(case=case).is_active  # no reason, no release
    client_for(cast["audrey"]).post(f"/cases/{case.pk}/release-hold", {"reason": "auditor tries"})
    assert LegalHold.objects.get(case=case).is_active
    assert paula.post(f"/cases/{case.pk}/release-hold", {"reason": "the court returned the file"}).status_code == 302

    hold = LegalHold.objects.get(case=case)
    assert not hold.is_active and hold.released_by == cast["paula"]
    assert AuditEntry.objects.get(action="hold.released").detail["reason"] == "the court returned the file"
    assert 'id="hold"' not in paula.get(f"/cases/{case.pk}/").content.decode()
