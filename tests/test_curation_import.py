"""Bulk import that cannot create by accident: every bad import ends with nothing the curator did not ask
for, a reason in the report, the job done or failed, and its files purged by retention."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from enrollment import actions, importer
from enrollment.models import ImportJob, Subject, Watchlist
from organizations.actions import get_or_create_branch
from tests.conftest import photo


@pytest.fixture
def inline_jobs(monkeypatch):
    from bankwatch import jobs

    monkeypatch.setattr(jobs, "enqueue", jobs.run)


@pytest.fixture
def target(db) -> Watchlist:
    branch = get_or_create_branch("Saigon Bank", "District 1")
    return actions.create_watchlist("Cướp ngân hàng", banks=[branch.bank], threshold=0.4)


def _csv(*rows: list[str], header: tuple[str, ...] = ("full_name", "watchlist", "expires_at", "photos")) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def _zip(**members: bytes) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name.replace("__", "/"), data)
    return archive.getvalue()


def _run(target: Watchlist, csv_data: bytes, zip_data: bytes, **options) -> dict:
    job = actions.start_import(target, csv_data, zip_data, **options)
    job.refresh_from_db()
    return importer.progress(job)


def _reasons(progress: dict) -> set[tuple]:
    return {(p["row"], p["photo"], p["reason"]) for p in progress["problems"]}


def test_a_row_naming_an_unknown_watchlist_is_refused_and_creates_nothing(target, inline_jobs, dataset):
    progress = _run(
        target,
        _csv(["Le Thi C", "Danh sách không tồn tại", "", "img1.jpg"], ["Pham Van D", "", "", "img1.jpg"]),
        _zip(**{"img1.jpg": photo("img1.jpg")}),
    )
    assert progress["status"] == "done" and progress["finished"]
    assert _reasons(progress) == {
        (
            2,
            None,
            "No watchlist is named “Danh sách không tồn tại”: check the spelling, or tick “Create missing watchlists”.",
        )
    }
    assert list(Watchlist.objects.values_list("name", flat=True)) == ["Cướp ngân hàng"]
    assert list(Subject.objects.values_list("full_name", "watchlist__name")) == [("Pham Van D", "Cướp ngân hàng")]
    assert (progress["subjects_created"], progress["subjects_ready"]) == (1, 1)


def test_a_missing_watchlist_is_created_only_when_asked_and_with_the_scope_of_the_jobs_watchlist(target, inline_jobs):
    progress = _run(target, _csv(["Le Thi C", "Băng Mới", "", ""]), _zip(), create_missing_watchlists=True)
    created = Watchlist.objects.get(name="Băng Mới")
    assert list(created.banks.all()) == list(target.banks.all()) and created.threshold == 0.4
    assert Subject.objects.get().watchlist == created
    assert _reasons(progress) == {
        (2, None, "Watchlist “Băng Mới” created, as asked, with the banks, branches and threshold of “Cướp ngân hàng”.")
    }


def test_dates_are_read_as_iso_or_day_month_year_and_anything_else_is_refused_with_its_reason(target, inline_jobs):
    progress = _run(
        target,
        _csv(["Iso", "", "2027-12-31", ""], ["Vietnamese", "", "31/12/2027", ""], ["American", "", "12/31/2027", ""]),
        _zip(),
    )
    days = {s.full_name: timezone.localtime(s.expires_at).date().isoformat() for s in Subject.objects.all()}
    assert days == {"Iso": "2027-12-31", "Vietnamese": "2027-12-31"}
    assert _reasons(progress) == {
        (4, None, "The expiry date “12/31/2027” is not a date: write it as YYYY-MM-DD or DD/MM/YYYY.")
    }


def _damaged() -> bytes:
    data = bytearray(_zip(**{"img1.jpg": b"\xff\xd8" + b"x" * 4000}))
    data[2000] ^= 0xFF  # inside the stored member: its CRC no longer matches
    return bytes(data)


def _encrypted() -> bytes:
    """A zip whose member says it is encrypted (bit 0 of its flags), as one made with a password does."""
    data = bytearray(_zip(**{"img1.jpg": b"x" * 100}))
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + flags_at] |= 0x1
    return bytes(data)


BAD_ZIPS = {
    "not a zip": (lambda: b"PK-not-really", "The photos file is not a zip archive."),
    "damaged member": (_damaged, "The zip member “img1.jpg” is damaged: make the zip again."),
    "encrypted member": (_encrypted, "The zip member “img1.jpg” is encrypted: make the zip without a password."),
    "named twice": (
        lambda: _zip(**{"a__img1.jpg": b"1", "b__img1.jpg": b"2"}),
        "Two files in the zip are named “img1.jpg”: give each photo its own name.",
    ),
    "too many photos": (lambda: _zip(**{f"{i}.jpg": b"x" for i in range(4)}), "The zip holds 4 files; at most 3."),
    "too many bytes": (
        lambda: _zip(**{"big.jpg": b"x" * 3 * 1024 * 1024}),
        "The zip unpacks to 3 MB; at most 2 MB.",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_ZIPS))
def test_a_bad_zip_is_refused_when_submitted_with_its_reason_and_nothing_is_stored(
    client, cast, target, kind, settings
):
    settings.IMPORT_MAX_PHOTOS = 3
    settings.IMPORT_MAX_UNPACKED_BYTES = 2 * 1024 * 1024
    make, reason = BAD_ZIPS[kind]
    client.force_login(cast["carol"])
    csv_file, zip_file = io.BytesIO(_csv(["Le Thi C", "", "", "img1.jpg"])), io.BytesIO(make())
    csv_file.name, zip_file.name = "subjects.csv", "photos.zip"
    response = client.post(
        reverse("admin:enrollment_importjob_add"), {"watchlist": target.pk, "csv_file": csv_file, "zip_file": zip_file}
    )
    assert response.status_code == 200
    assert reason in response.context["adminform"].form.errors["zip_file"]
    with pytest.raises(ValidationError) as refused:
        actions.start_import(target, _csv(["Le Thi C", "", "", "img1.jpg"]), make())
    assert reason in refused.value.message_dict["zip_file"]
    assert not ImportJob.objects.exists() and not Subject.objects.exists()


def test_a_csv_without_a_full_name_column_is_refused_when_submitted(target):
    with pytest.raises(ValidationError) as refused:
        actions.start_import(target, _csv(["x"], header=("name",)), _zip())
    assert refused.value.message_dict == {"csv_file": ["The CSV has no full_name column in its first row."]}


def test_an_import_that_breaks_ends_failed_with_its_reason_and_its_files_are_purged(target, inline_jobs, monkeypatch):
    from retention.jobs import purge_finished_imports

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(actions, "create_subject", broken)
    progress = _run(target, _csv(["Le Thi C", "", "", ""]), _zip())
    job = ImportJob.objects.get()
    assert progress["status"] == "failed" and progress["finished"] and job.finished_at is not None
    assert _reasons(progress) == {
        (None, None, "The import stopped with an error (RuntimeError): the rows before it were imported.")
    }
    stored = [job.zip_file.path, job.csv_file.path]
    assert purge_finished_imports(timezone.now() + timedelta(days=2)) == 1
    job.refresh_from_db()
    assert (job.zip_file.name, job.csv_file.name) == ("", "")
    assert not any(__import__("os").path.exists(p) for p in stored)


def test_an_import_left_running_by_a_killed_worker_is_failed_by_retention(target, monkeypatch):
    from bankwatch import jobs
    from retention.jobs import run_all as retention_run

    monkeypatch.setattr(jobs, "enqueue", lambda *args: None)
    job = actions.start_import(target, _csv(["Le Thi C", "", "", ""]), _zip())
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, created_at=timezone.now() - timedelta(hours=2)
    )
    retention_run()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
    assert importer.progress(job)["problems"][0]["reason"].startswith("The import did not finish")


def test_a_subject_left_without_an_accepted_photo_is_reported_and_not_counted_ready(target, inline_jobs, dataset):
    progress = _run(
        target,
        _csv(
            ["Ready", "", "", "img1.jpg"],
            ["Missing photo", "", "", "missing.jpg"],
            ["Rejected photo", "", "", "couple.jpg"],
        ),
        _zip(**{"img1.jpg": photo("img1.jpg"), "couple.jpg": photo("couple.jpg")}),
    )
    assert progress["finished"] and (progress["subjects_created"], progress["subjects_ready"]) == (3, 1)
    no_photo = "No accepted photo: this subject cannot match anyone until one is added."
    assert {(s["subject"], s["reason"]) for s in progress["without_photo"]} == {
        ("Missing photo", no_photo),
        ("Rejected photo", no_photo),
    }
    assert progress["summary"] == ("Done: 1 of 3 rows are subjects that can match; 2 of 2 photos checked, 1 accepted.")
