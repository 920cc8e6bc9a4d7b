"""Bulk import: a CSV of subjects and a zip of their photos.

CSV columns (a header row; only full_name is required):
    full_name, aliases, watchlist, case_reference, legal_basis, notes, expires_at, photos
`expires_at` is YYYY-MM-DD or DD/MM/YYYY; `photos` names files inside the zip, separated by ";".
A row without a watchlist goes to the job's watchlist. A row naming a watchlist that does not
exist is refused with its reason, unless the curator ticked "create missing watchlists": then
it is created with the scope and threshold of the job's watchlist, and the report says so.

1. The files were checked when the import was submitted (enrollment/archive.py); the job
   claims itself with one conditional UPDATE, so a redelivered job never imports twice.
2. Each row becomes a subject through actions.create_subject; each photo goes through
   actions.add_photo, which queues the usual enrollment job, so imported photos pass the
   same quality gate as photos uploaded one by one.
3. Whatever goes wrong ends the job: done, or failed with its reason; either way it has a
   finished_at, so retention purges its files (retention/jobs.py purge_finished_imports).
4. Progress and the report come from the photos' own statuses (`progress`), so they are
   right whichever worker enrolled which photo; a subject left with no accepted photo is
   reported as such, not as a success.
"""

import io
import logging
import zipfile
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from enrollment import actions, archive
from enrollment.models import ImportJob, ReferencePhoto, Subject, Watchlist
from enrollment.reasons import problem, render
from recognition.images import InvalidImageError

logger = logging.getLogger(__name__)


def run(job_id: int) -> ImportJob:
    if not ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(status=ImportJob.Status.RUNNING):
        return ImportJob.objects.get(pk=job_id)  # already run: a redelivered job must not import the rows twice
    job = ImportJob.objects.select_related("watchlist", "created_by").get(pk=job_id)
    problems: list[dict[str, Any]] = []
    try:
        status = _import(job, problems)
    except Exception as exc:  # whatever broke, the job ends visibly, and its files go with retention
        logger.exception("import %s failed", job_id)
        problems.append(problem("import.crashed", error=exc.__class__.__name__))
        status = ImportJob.Status.FAILED
    job.problems = problems
    job.status = status
    job.finished_at = timezone.now()
    job.save(update_fields=["problems", "status", "finished_at", "rows", "subjects_created"])
    return job


def _import(job: ImportJob, problems: list[dict[str, Any]]) -> str:
    try:
        with job.csv_file.open("rb") as handle:
            csv_data = handle.read()
        with job.zip_file.open("rb") as handle:
            zip_data = handle.read()
    except OSError as exc:
        problems.append(problem("import.unreadable", error=exc.__class__.__name__))
        return ImportJob.Status.FAILED
    rows, refused = archive.read_rows(csv_data)
    try:
        photos = zipfile.ZipFile(io.BytesIO(zip_data))
    except zipfile.BadZipFile:
        refused.append(problem("import.not_a_zip"))
    if refused:
        problems.extend(refused)
        return ImportJob.Status.FAILED
    members = archive.photos_in_zip(photos)
    job.rows = len(rows)
    ImportJob.objects.filter(pk=job.pk).update(rows=job.rows)
    watchlists: dict[str, Watchlist] = {job.watchlist.name: job.watchlist}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        job.subjects_created += _import_row(job, number, row, members, photos, watchlists, problems)
    return ImportJob.Status.DONE


def _watchlist(
    job: ImportJob, number: int, name: str, watchlists: dict[str, Watchlist], problems: list[dict[str, Any]]
) -> Watchlist | None:
    """The row's watchlist; a missing one is created only when the curator asked for it."""
    if name in watchlists:
        return watchlists[name]
    found = Watchlist.objects.filter(name=name).first()
    if found is None and not job.create_missing_watchlists:
        problems.append(problem("import.unknown_watchlist", row=number, name=name))
        return None
    if found is None:
        base = job.watchlist
        found = actions.create_watchlist(
            name,
            actor=job.created_by,
            agency=base.agency,
            threshold=base.threshold,
            banks=list(base.banks.all()),
            branches=list(base.branches.all()),
        )
        problems.append(problem("import.watchlist_created", row=number, name=name, base=base.name))
    watchlists[name] = found
    return found


def _import_row(
    job: ImportJob,
    number: int,
    row: dict[str, str],
    members: dict[str, zipfile.ZipInfo],
    photos: zipfile.ZipFile,
    watchlists: dict[str, Watchlist],
    problems: list[dict[str, Any]],
) -> int:
    actor: User | None = job.created_by
    name = row.get("full_name", "")
    if not name:
        problems.append(problem("import.no_full_name", row=number))
        return 0
    try:
        expires_at = archive.parse_expiry(row.get("expires_at", ""))
    except ValueError:
        problems.append(problem("import.bad_date", row=number, value=row.get("expires_at", "")))
        return 0
    listing = _watchlist(job, number, row.get("watchlist") or job.watchlist.name, watchlists, problems)
    if listing is None:
        return 0
    try:
        subject = actions.create_subject(
            listing,
            name,
            added_by=actor,
            import_job=job,
            aliases=row.get("aliases", ""),
            case_reference=row.get("case_reference", ""),
            legal_basis=row.get("legal_basis", ""),
            notes=row.get("notes", ""),
            expires_at=expires_at,
        )
    except ValidationError as exc:
        problems.append(problem("import.invalid", row=number, name=name, why=" ".join(exc.messages)))
        return 0
    for photo_name in [p.strip() for p in row.get("photos", "").split(";") if p.strip()]:
        member = members.get(PurePosixPath(photo_name).name)
        if member is None:
            problems.append(problem("import.not_in_zip", row=number, photo=photo_name))
            continue
        if member.file_size > settings.MAX_UPLOAD_BYTES:
            problems.append(
                problem(
                    "photo.too_large",
                    row=number,
                    photo=photo_name,
                    size_bytes=member.file_size,
                    limit_bytes=settings.MAX_UPLOAD_BYTES,
                )
            )
            continue
        try:
            data = photos.read(member)
        except archive.MEMBER_ERRORS:
            problems.append(problem("import.damaged_member", row=number, photo=photo_name, member=member.filename))
            continue
        try:
            actions.add_photo(subject, data, photo_name, uploaded_by=actor, import_job=job)
        except InvalidImageError as exc:
            problems.append(problem(exc.code, row=number, photo=photo_name, **exc.params))
    return 1


def _reason(entry: dict[str, Any]) -> str:
    return render(entry["code"], entry.get("params")) if "code" in entry else str(entry.get("reason", ""))


def progress(job: ImportJob) -> dict[str, Any]:
    """What the progress bar and the report show, in the reader's language: counts, every refused row
    or photo with its reason, and every subject left with no accepted photo."""
    photos = list(
        job.photos.select_related("subject").only(
            "original_name", "status", "rejection_code", "rejection_params", "rejection_reason", "subject__full_name"
        )
    )
    done = sum(1 for p in photos if p.status != ReferencePhoto.Status.PENDING)
    finished = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED) and done == len(photos)
    rejected = [
        {"photo": p.original_name, "subject": p.subject.full_name, "reason": p.reason(), "code": p.rejection_code}
        for p in photos
        if p.status in (ReferencePhoto.Status.REJECTED, ReferencePhoto.Status.FAILED, ReferencePhoto.Status.HELD)
    ]
    subjects = Subject.objects.filter(import_job=job).annotate(
        accepted=Count("photos", filter=Q(photos__status=ReferencePhoto.Status.ACCEPTED)),
        pending=Count("photos", filter=Q(photos__status=ReferencePhoto.Status.PENDING)),
    )
    without_photo = [
        {"subject": s.full_name, "code": "import.no_accepted_photo", "reason": render("import.no_accepted_photo")}
        for s in subjects.order_by("id")
        if s.accepted == 0 and s.pending == 0
    ]
    ready = sum(1 for s in subjects if s.accepted > 0)
    accepted = sum(1 for p in photos if p.status == ReferencePhoto.Status.ACCEPTED)
    counts = {
        "status": job.get_status_display(),
        "ready": ready,
        "rows": job.rows,
        "done": done,
        "photos": len(photos),
        "accepted": accepted,
    }
    return {
        "id": job.pk,
        "status": job.status,
        "finished": finished,
        "rows": job.rows,
        "subjects_created": job.subjects_created,
        "subjects_ready": ready,
        "photos": len(photos),
        "photos_done": done,
        "accepted": accepted,
        "percent": 100 if finished else (round(100 * done / len(photos)) if photos else 0),
        "summary": gettext(
            "%(status)s: %(ready)s of %(rows)s rows are subjects that can match; "
            "%(done)s of %(photos)s photos checked, %(accepted)s accepted."
        )
        % counts,
        "rejected": rejected,
        "without_photo": without_photo,
        "problems": [{**entry, "reason": _reason(entry)} for entry in job.problems],
    }
