"""The curators' admin: who may open it, photo upload with status and crop, bulk import with its report."""

import csv
import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from accounts.actions import create_user
from audit.models import AuditEntry
from enrollment import actions
from enrollment.models import FaceTemplate, ImportJob, ReferencePhoto, Subject
from tests.conftest import PASSWORD, photo


@pytest.fixture
def inline_jobs(monkeypatch):
    """Run background jobs at once, inside the test's transaction (the test database is not shared with threads)."""
    from bankwatch import jobs

    monkeypatch.setattr(jobs, "enqueue", jobs.run)


@pytest.fixture
def listed(cast) -> Subject:
    return actions.create_subject(actions.create_watchlist("Robbers"), "Person One", added_by=cast["carol"])


def pages(subject: Subject, photo_row: ReferencePhoto, job: ImportJob) -> list[str]:
    return [
        reverse("admin:enrollment_watchlist_changelist"),
        reverse("admin:enrollment_watchlist_change", args=[subject.watchlist_id]),
        reverse("admin:enrollment_subject_changelist"),
        reverse("admin:enrollment_subject_add"),
        reverse("admin:enrollment_subject_change", args=[subject.pk]),
        reverse("admin:enrollment_referencephoto_changelist"),
        reverse("admin:enrollment_referencephoto_change", args=[photo_row.pk]),
        reverse("admin:enrollment_referencephoto_file", args=[photo_row.pk, "image"]),
        reverse("admin:enrollment_referencephoto_statuses") + f"?ids={photo_row.pk}",
        reverse("admin:enrollment_importjob_add"),
        reverse("admin:enrollment_importjob_change", args=[job.pk]),
        reverse("admin:enrollment_importjob_progress", args=[job.pk]),
    ]


@pytest.fixture
def every_page(listed, cast) -> list[str]:
    photo_row = ReferencePhoto.objects.create(subject=listed, image="enrollment/photos/x.jpg")
    photo_row.image.save("x.jpg", ContentFile(b"\xff\xd8 not really"), save=True)
    job = ImportJob.objects.create(
        watchlist=listed.watchlist, csv_file="a.csv", zip_file="a.zip", created_by=cast["carol"]
    )
    return pages(listed, photo_row, job)


def test_a_curator_opens_every_enrollment_page(client, cast, every_page):
    client.force_login(cast["carol"])
    for url in every_page:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("name", ["alice", "bob", "charlie", "paula", "audrey"])
def test_users_who_are_not_curators_are_sent_to_the_admin_login(client, cast, every_page, name):
    client.force_login(cast[name])
    for url in every_page:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


def test_staff_of_another_role_get_nothing_even_with_model_permissions(client, cast, every_page):
    from django.contrib.auth.models import Permission

    auditor = create_user("stan", "auditor", PASSWORD)
    auditor.is_staff = True
    auditor.save()
    auditor.user_permissions.set(Permission.objects.filter(content_type__app_label="enrollment"))
    client.force_login(auditor)
    assert b"Robbers" not in client.get(reverse("admin:index")).content
    for url in every_page:
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("admin:enrollment_referencephoto_reenroll_all"))
    assert response.status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client, every_page):
    for url in every_page:
        assert client.get(url).status_code == 302, url


def test_a_curator_adds_a_subject_with_photos_and_sees_status_and_crop(client, cast, dataset, inline_jobs):
    client.force_login(cast["carol"])
    watchlist = actions.create_watchlist("Wanted")
    response = client.post(
        reverse("admin:enrollment_subject_add"),
        {
            "watchlist": watchlist.pk,
            "full_name": "Tran Van B",
            "legal_basis": "Warrant 7/2026",
            "status": "active",
            "new_photos": [io.BytesIO(photo("img1.jpg")), io.BytesIO(photo("couple.jpg"))],
            "photos-TOTAL_FORMS": "0",
            "photos-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    subject = Subject.objects.get(full_name="Tran Van B")
    assert subject.added_by == cast["carol"]
    statuses = dict(subject.photos.values_list("status", "rejection_reason"))
    assert set(statuses) == {"accepted", "rejected"}
    assert statuses["rejected"].startswith("Several faces")
    accepted = subject.photos.get(status="accepted")
    assert FaceTemplate.objects.filter(photo=accepted).exists()
    page = client.get(reverse("admin:enrollment_subject_change", args=[subject.pk])).content.decode()
    assert reverse("admin:enrollment_referencephoto_file", args=[accepted.pk, "crop"]) in page
    assert "Several faces of similar size" in page
    crop = client.get(reverse("admin:enrollment_referencephoto_file", args=[accepted.pk, "crop"]))
    assert crop.status_code == 200 and b"".join(crop.streaming_content)[:2] == b"\xff\xd8"
    assert AuditEntry.objects.filter(action="subject.created", object_id=str(subject.pk), actor=cast["carol"]).exists()


def test_a_file_that_is_not_an_image_is_refused_in_the_form(client, cast, listed):
    client.force_login(cast["carol"])
    upload = io.BytesIO(b"MZ\x90\x00 an executable")
    upload.name = "payload.exe"
    response = client.post(reverse("admin:enrollment_referencephoto_add"), {"subject": listed.pk, "image": upload})
    assert response.status_code == 200 and "Not a readable image: send JPEG" in response.content.decode()
    assert not ReferencePhoto.objects.exists()


def test_removing_a_subject_in_the_admin_is_audited(client, cast, listed):
    client.force_login(cast["carol"])
    response = client.post(
        reverse("admin:enrollment_subject_changelist"),
        {"action": "remove_subjects", "_selected_action": [listed.pk]},
    )
    assert response.status_code == 302
    assert Subject.objects.get(pk=listed.pk).status == Subject.Status.REMOVED
    assert AuditEntry.objects.get(action="subject.removed", object_id=str(listed.pk)).actor == cast["carol"]


def test_changing_the_model_offers_re_enroll_all(client, cast, listed, dataset, inline_jobs, settings):
    client.force_login(cast["carol"])
    actions.add_photo(listed, photo("img1.jpg"), "img1.jpg")
    url = reverse("admin:enrollment_referencephoto_changelist")
    assert "Re-enroll all" not in client.get(url).content.decode()
    settings.RECOGNITION_DETECTOR = "opencv"  # another model_id; the photo's template is now of an old model
    assert "Re-enroll all" in client.get(url).content.decode()
    settings.RECOGNITION_DETECTOR = "yunet"  # keep the test quick: rebuild with the fast engine
    FaceTemplate.objects.update(model_id="old-model")
    client.post(reverse("admin:enrollment_referencephoto_reenroll_all"))
    assert set(FaceTemplate.objects.values_list("model_id", flat=True)) == {"old-model", "SFace+yunet"}
    assert AuditEntry.objects.filter(action="gallery.reenroll", actor=cast["carol"]).exists()


def _import_files() -> tuple[bytes, bytes]:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["full_name", "aliases", "legal_basis", "expires_at", "photos"])
    writer.writerow(["Le Thi C", "Chi", "Warrant 3/2026", "2030-01-31", "img1.jpg;missing.jpg"])
    writer.writerow(["Pham Van D", "", "Warrant 4/2026", "", "group/couple.jpg"])
    writer.writerow(["", "", "", "", ""])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("img1.jpg", photo("img1.jpg"))
        z.writestr("group/couple.jpg", photo("couple.jpg"))
    return text.getvalue().encode(), archive.getvalue()


def test_a_bulk_import_reports_progress_and_every_rejection_with_its_reason(client, cast, dataset, inline_jobs):
    client.force_login(cast["carol"])
    watchlist = actions.create_watchlist("Imported")
    csv_data, zip_data = _import_files()
    csv_file, zip_file = io.BytesIO(csv_data), io.BytesIO(zip_data)
    csv_file.name, zip_file.name = "subjects.csv", "photos.zip"
    response = client.post(
        reverse("admin:enrollment_importjob_add"),
        {"watchlist": watchlist.pk, "csv_file": csv_file, "zip_file": zip_file},
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/change/")
    page = client.get(response["Location"]).content.decode()
    assert "import-progress" in page and "enrollment_import.js" in page

    progress = client.get(reverse("admin:enrollment_importjob_progress", args=[job.pk])).json()
    assert progress["finished"] and progress["percent"] == 100
    assert (progress["rows"], progress["subjects_created"], progress["photos"], progress["accepted"]) == (3, 2, 2, 1)
    assert {(p["row"], p["photo"], p["reason"]) for p in progress["problems"]} == {
        (2, "missing.jpg", "Not in the zip."),
        (4, None, "No full_name."),
    }
    [rejected] = progress["rejected"]
    assert rejected["subject"] == "Pham Van D" and rejected["reason"].startswith("Several faces")
    le = Subject.objects.get(full_name="Le Thi C")
    assert (le.watchlist, le.aliases, le.added_by) == (watchlist, "Chi", cast["carol"])
    assert le.expires_at is not None and le.expires_at.year == 2030


def test_opening_a_subject_and_its_photo_in_the_admin_is_audited(client, cast, listed):
    photo_row = ReferencePhoto.objects.create(subject=listed, image="enrollment/photos/y.jpg")
    photo_row.image.save("y.jpg", ContentFile(b"\xff\xd8 not really"), save=True)
    client.force_login(cast["carol"])
    assert client.get(reverse("admin:enrollment_subject_change", args=[listed.pk])).status_code == 200
    assert client.get(reverse("admin:enrollment_referencephoto_file", args=[photo_row.pk, "image"])).status_code == 200
    viewed = AuditEntry.objects.filter(actor=cast["carol"]).values_list("action", "object_id")
    assert ("subject.viewed", str(listed.pk)) in viewed
    assert ("photo.viewed", str(photo_row.pk)) in viewed
