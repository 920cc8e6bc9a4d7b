"""Evidence that is right: the face shown and exported with a score is the crop that produced that
score (the best sighting), and the export carries the reference photos, the bank's note and the whole
history; the audit log's file count is what verify_evidence counts."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from alerts.actions import add_sighting, review_alert
from alerts.models import Alert
from audit.models import AuditEntry
from cases.actions import open_case
from cases.export import verify_evidence_zip
from enrollment.models import ReferencePhoto
from tests.factories import _image, make_alert, make_observation, make_subject


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def case(cast, camera_with_token):
    camera = camera_with_token[0]
    subject = make_subject()
    subject.armed, subject.notes = True, "May be armed"
    subject.save()
    reference = ReferencePhoto(subject=subject, status="accepted")
    reference.image.save("ref.jpg", ContentFile(_image(200, 200, 60)), save=False)
    reference.save()
    alert = make_alert(camera, subject, score=0.55)
    # A later, better frame of the same person: its crop is the one that scored the alert's score.
    add_sighting(alert, make_observation(camera, 0.81, face_crop=_image(112, 112, 200)))
    add_sighting(alert, make_observation(camera, 0.60, face_crop=_image(112, 112, 30)))
    alert.refresh_from_db()
    alert = review_alert(alert, cast["alice"], "confirm", note="same scar as on the warrant photo", version=1)
    alert = review_alert(alert, cast["alice"], "escalate", version=2)
    return open_case(alert, cast["paula"], version=3, note="Patrol 12 sent")


def _export(cast, case) -> zipfile.ZipFile:
    response = _client(cast["paula"]).get(f"/cases/{case.pk}/export")
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_exported_probe_is_the_best_scoring_sightings_crop(cast, case):
    alert = Alert.objects.get(pk=case.alert_id)
    best = alert.sightings.order_by("-score").first()
    assert best is not None and alert.score == pytest.approx(best.score) == pytest.approx(0.81)
    archive = _export(cast, case)
    probe = hashlib.sha256(archive.read("images/probe.jpg")).hexdigest()
    assert probe == hashlib.sha256(best.face_crop.open("rb").read()).hexdigest()
    assert probe != hashlib.sha256(alert.probe_crop.open("rb").read()).hexdigest()  # not the first frame's
    meta = json.loads(archive.read("metadata.json"))
    assert meta["probe"] == {"sighting_id": best.pk, "score": 0.81}


def test_the_export_carries_the_reference_photos_the_banks_note_and_the_whole_history(cast, case):
    archive = _export(cast, case)
    meta = json.loads(archive.read("metadata.json"))
    [reference] = meta["subject"]["reference_photos"]
    assert reference in archive.namelist()
    assert meta["subject"]["caution"] == ["armed"] and meta["subject"]["notes"] == "May be armed"
    assert meta["bank_review"] == {"note": "same scar as on the warrant photo", "reviewed_by": "alice"}
    moves = [(m["by"], m["action"]) for m in meta["history"]]
    assert moves == [
        ("system", "alert.raised"),
        ("alice", "alert.confirm"),
        ("alice", "alert.escalate"),
        ("paula", "case.opened"),
    ]


def test_the_file_count_in_the_audit_log_is_what_verify_evidence_counts(cast, case):
    data = _client(cast["paula"]).get(f"/cases/{case.pk}/export").content
    result = verify_evidence_zip(data)
    entry = AuditEntry.objects.get(action="case.evidence_exported")
    assert result["ok"] and entry.detail["files"] == result["files"]
    assert result["files"] == len(zipfile.ZipFile(io.BytesIO(data)).namelist()) - 1  # all but SHA256SUMS


def test_the_case_page_shows_the_best_sightings_face_with_its_score_and_the_history(cast, case):
    alert = Alert.objects.get(pk=case.alert_id)
    best = alert.sightings.order_by("-score").first()
    assert best is not None
    page = _client(cast["paula"]).get(f"/cases/{case.pk}/").content.decode()
    probe = page.split('id="probe"', 1)[1].split(">", 1)[0]
    assert f"/alerts/{alert.pk}/sightings/{best.pk}/face" in probe
    assert "score 0.810" in page and "may be armed" in page
    assert "same scar as on the warrant photo" in page and 'data-action="alert.escalate"' in page


def test_the_police_inbox_shows_each_escalation_with_its_face_the_banks_note_and_an_open_case_button(
    cast, camera_with_token
):
    camera = camera_with_token[0]
    alert = make_alert(camera, make_subject(), score=0.5)
    best = add_sighting(alert, make_observation(camera, 0.8, face_crop=_image(112, 112, 200)))
    assert best is not None
    alert = review_alert(alert, cast["alice"], "confirm", note="seen at counter 2, grey jacket", version=1)
    alert = review_alert(alert, cast["alice"], "escalate", version=2)
    page = _client(cast["paula"]).get("/police/").content.decode()
    card = page.split(f'data-alert-id="{alert.pk}"', 1)[1].split("</article>", 1)[0]
    assert f"/alerts/{alert.pk}/sightings/{best.pk}/face" in card
    assert "seen at counter 2, grey jacket" in card and "alice" in card
    assert f'action="/alerts/{alert.pk}/open-case"' in card and f'value="{alert.version}"' in card
    # The auditor reads the inbox but gets no button.
    assert "open-case" not in _client(cast["audrey"]).get("/police/").content.decode().split('id="escalations"')[1]
