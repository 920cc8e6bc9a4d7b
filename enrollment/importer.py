"""Bulk import: a CSV of subjects and a zip of their photos.

CSV columns (a header row; only full_name is required):
    full_name, aliases, watchlist, case_reference, legal_basis, notes, expires_at (YYYY-MM-DD), photos
`photos` names files inside the zip, separated by ";". A row without a watchlist goes to the
job's watchlist; a watchlist named in a row is created when missing.

1. The import job reads the CSV and creates each subject with actions.create_subject.
2. Each photo goes through actions.add_photo, which queues the usual enrollment job,
   so imported photos pass the same quality gate as photos uploaded one by one.
3. Progress and the report come from the photos' own statuses (`progress`), so they are
   right whichever worker enrolled which photo.
"""

import csv
import io
import zipfile
from datetime import datetime, time
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from enrollment import actions
from enrollment.models import ImportJob, ReferencePhoto, Watchlist
from recognition.images import InvalidImageError

COLUMNS = ("full_name", "aliases", "watchlist", "case_reference", "legal_basis", "notes", "expires_at", "photos")
MAX_ROWS = 10_000


def _expiry(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    day = datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - made aware on the next line
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def _photos_in_zip(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Zip members by base name (folders inside the zip do not matter); no paths are ever extracted."""
    return {PurePosixPath(info.filename).name: info for info in archive.infolist() if not info.is_dir()}


def run(job_id: int) -> ImportJob:
    job = ImportJob.objects.select_related("watchlist", "created_by").get(pk=job_id)
    if job.status != ImportJob.Status.QUEUED:
        return job  # already run: a redelivered job must not import the rows twice
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    problems: list[dict[str, Any]] = []
    try:
        with job.csv_file.open("rb") as handle:
            text = handle.read().decode("utf-8-sig")
        with job.zip_file.open("rb") as handle:
            archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    except (OSError, UnicodeDecodeError, zipfile.BadZipFile, csv.Error) as exc:
        job.status, job.finished_at = ImportJob.Status.FAILED, timezone.now()
        job.problems = [{"row": None, "photo": None, "reason": f"Could not read the files: {exc}"}]
        job.save()
        return job
    members = _photos_in_zip(archive)
    rows = list(csv.DictReader(io.StringIO(text)))[:MAX_ROWS]
    job.rows = len(rows)
    job.save(update_fields=["rows"])
    watchlists: dict[str, Watchlist] = {job.watchlist.name: job.watchlist}
    created = 0
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        created += _import_row(job, number, row, members, archive, watchlists, problems)
    job.subjects_created = created
    job.problems = problems
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save()
    return job


def _import_row(
    job: ImportJob,
    number: int,
    row: dict[str, str],
    members: dict[str, zipfile.ZipInfo],
    archive: zipfile.ZipFile,
    watchlists: dict[str, Watchlist],
    problems: list[dict[str, Any]],
) -> int:
    actor: User | None = job.created_by
    name = row.get("full_name", "")
    if not name:
        problems.append({"row": number, "photo": None, "reason": "No full_name."})
        return 0
    listing_name = row.get("watchlist") or job.watchlist.name
    try:
        if listing_name not in watchlists:
            found = Watchlist.objects.filter(name=listing_name).first()
            watchlists[listing_name] = found or actions.create_watchlist(listing_name, actor=actor)
        subject = actions.create_subject(
            watchlists[listing_name],
            name,
            added_by=actor,
            aliases=row.get("aliases", ""),
            case_reference=row.get("case_reference", ""),
            legal_basis=row.get("legal_basis", ""),
            notes=row.get("notes", ""),
            expires_at=_expiry(row.get("expires_at", "")),
        )
    except (ValidationError, ValueError) as exc:
        problems.append({"row": number, "photo": None, "reason": f"{name}: {_message(exc)}"})
        return 0
    for photo_name in [p.strip() for p in row.get("photos", "").split(";") if p.strip()]:
        member = members.get(PurePosixPath(photo_name).name)
        if member is None:
            problems.append({"row": number, "photo": photo_name, "reason": "Not in the zip."})
            continue
        if member.file_size > settings.MAX_UPLOAD_BYTES:
            problems.append({"row": number, "photo": photo_name, "reason": "Larger than the upload limit."})
            continue
        try:
            actions.add_photo(subject, archive.read(member), photo_name, uploaded_by=actor, import_job=job)
        except InvalidImageError as exc:
            problems.append({"row": number, "photo": photo_name, "reason": f"Not a usable image: {exc}."})
    return 1


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{field}: {', '.join(errors)}" for field, errors in exc.message_dict.items())
    return str(exc)


def progress(job: ImportJob) -> dict[str, Any]:
    """What the progress bar and the report show: counts, and every rejected row or photo with its reason."""
    photos = list(job.photos.values("id", "original_name", "status", "rejection_reason", "subject__full_name"))
    done = sum(1 for p in photos if p["status"] != ReferencePhoto.Status.PENDING)
    finished = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED) and done == len(photos)
    rejected = [
        {"photo": p["original_name"], "subject": p["subject__full_name"], "reason": p["rejection_reason"]}
        for p in photos
        if p["status"] == ReferencePhoto.Status.REJECTED
    ]
    return {
        "id": job.pk,
        "status": job.status,
        "finished": finished,
        "rows": job.rows,
        "subjects_created": job.subjects_created,
        "photos": len(photos),
        "photos_done": done,
        "accepted": sum(1 for p in photos if p["status"] == ReferencePhoto.Status.ACCEPTED),
        "percent": 100 if finished else (round(100 * done / len(photos)) if photos else 0),
        "rejected": rejected,
        "problems": job.problems,
    }
