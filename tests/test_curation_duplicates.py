"""The same face twice: a photo whose face matches another subject's accepted photo (real photos, the
real engine) is held for a curator, who decides same person (moved there) or different people (a note)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEntry
from enrollment import actions
from enrollment.models import FaceTemplate, ReferencePhoto, Subject
from tests.conftest import photo


@pytest.fixture
def inline_jobs(monkeypatch):
    from bankwatch import jobs

    monkeypatch.setattr(jobs, "enqueue", jobs.run)


@pytest.fixture
def listed(db, dataset, inline_jobs) -> Subject:
    """Tran Van A, enrolled from img1.jpg."""
    subject = actions.create_subject(actions.create_watchlist("Cướp ngân hàng"), "Tran Van A")
    assert actions.add_photo(subject, photo("img1.jpg"), "img1.jpg").status == "pending"
    assert subject.photos.get().status == ReferencePhoto.Status.ACCEPTED
    return subject


def _second(listed: Subject, name: str = "img2.jpg") -> ReferencePhoto:
    """Another subject, on another watchlist, given a photo of `name`."""
    other = actions.create_subject(actions.create_watchlist("Lừa đảo"), "Le Van B")
    actions.add_photo(other, photo(name), name)
    return other.photos.get()


def test_the_same_face_under_another_subject_is_held_with_no_template_and_audited(listed):
    held = _second(listed)  # img2 is the same man as img1
    assert held.status == ReferencePhoto.Status.HELD and held.held_with == listed
    assert held.rejection_code == "photo.same_face_as" and held.rejection_params["name"] == "Tran Van A"
    assert held.reason().startswith("The same face as “Tran Van A” of “Cướp ngân hàng” (similarity 0.")
    assert held.face_crop, "the curator sees the face to decide"
    assert not FaceTemplate.objects.filter(photo=held).exists()
    entry = AuditEntry.objects.get(action="photo.held", object_id=str(held.pk))
    assert entry.detail["held_with"] == listed.pk


def test_a_different_persons_face_under_another_subject_is_accepted_at_once(listed):
    assert _second(listed, "img20.jpg").status == ReferencePhoto.Status.ACCEPTED


def test_same_person_moves_the_photo_to_the_matching_subject_where_it_is_enrolled(listed, cast):
    held = _second(listed)
    first_subject = held.subject
    decided = actions.decide_duplicate(held, "same", actor=cast["carol"])
    assert (decided.subject, decided.status, decided.decision) == (listed, ReferencePhoto.Status.ACCEPTED, "same")
    assert FaceTemplate.objects.filter(photo=decided, subject=listed).exists()
    assert not first_subject.photos.exists()
    entry = AuditEntry.objects.get(action="photo.duplicate_decided", object_id=str(held.pk))
    assert (entry.actor, entry.detail["decision"], entry.detail["moved_from"]) == (
        cast["carol"],
        "same",
        first_subject.pk,
    )


def test_different_people_needs_a_note_and_then_accepts_the_photo_on_its_own_subject(listed, cast):
    held = _second(listed)
    with pytest.raises(ValidationError) as refused:
        actions.decide_duplicate(held, "different", actor=cast["carol"])
    assert refused.value.messages == ["Say why these are different people: the note is kept with the decision."]
    assert ReferencePhoto.objects.get(pk=held.pk).status == ReferencePhoto.Status.HELD
    decided = actions.decide_duplicate(held, "different", actor=cast["carol"], note="twin brothers, ID checked")
    assert decided.status == ReferencePhoto.Status.ACCEPTED and decided.subject == held.subject
    assert decided.decision_note == "twin brothers, ID checked"
    entry = AuditEntry.objects.get(action="photo.duplicate_decided", object_id=str(held.pk))
    assert entry.detail["note"] == "twin brothers, ID checked" and entry.detail["moved_from"] is None


def test_a_curator_decides_in_the_api_and_the_admin_and_no_one_else_may(listed, cast, client):
    held = _second(listed)
    outsider = APIClient()
    outsider.force_login(cast["alice"])
    assert outsider.post(f"/api/v1/photos/{held.pk}/decision/", {"decision": "same"}, format="json").status_code == 403
    curator = APIClient()
    curator.force_login(cast["carol"])
    response = curator.post(f"/api/v1/photos/{held.pk}/decision/", {"decision": "different"}, format="json")
    assert response.status_code == 400 and "Say why these are different people" in str(response.json())
    client.force_login(cast["carol"])
    response = client.post(
        reverse("admin:enrollment_referencephoto_changelist"),
        {"action": "decide_same_person", "_selected_action": [held.pk], "note": ""},
    )
    assert response.status_code == 302
    assert ReferencePhoto.objects.get(pk=held.pk).subject == listed


@pytest.mark.django_db(transaction=True)
def test_manage_py_enroll_reports_a_held_photo_with_the_subject_it_matched(dataset, tmp_path, capsys):
    import json

    from django.core.management import call_command

    for name in ("img1.jpg", "img2.jpg"):
        (tmp_path / name).write_bytes(photo(name))
    call_command("enroll", str(tmp_path / "img1.jpg"), watchlist="Robbers", name="Tran Van A", timeout=120)
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    call_command("enroll", str(tmp_path / "img2.jpg"), watchlist="Robbers", name="Le Van B", timeout=120)
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["accepted"] == 0 and printed["held"][0]["held_with"] == first["subject_id"]
    assert printed["held"][0]["reason"].startswith("The same face as “Tran Van A” of “Robbers”")
