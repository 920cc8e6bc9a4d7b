"""Evidence export: one zip a court can check later.

The zip holds the images, `metadata.json` (case, alert, subject, sightings, notes, who
exported it and when) and `SHA256SUMS` in the format `sha256sum -c` reads. The SHA-256
of SHA256SUMS itself goes into the audit log, so a copy that turns up later can be
checked against what left the system, and by whom.

`export_response` is the download, for the case page and the API alike.
"""

import hashlib
import io
import json
import zipfile
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import User
from alerts.access import can_run_cases
from alerts.feed import serialize_alert
from alerts.history import alert_history
from alerts.models import Alert
from audit.log import record
from bankwatch.biometrics import private
from cases.models import Case
from enrollment.models import ReferencePhoto

MANIFEST = "SHA256SUMS"


def _read(field: FieldFile) -> bytes | None:
    if not field:
        return None
    with field.open("rb") as handle:
        return handle.read()


def evidence_files(case: Case) -> dict[str, bytes]:
    """The images: the probe (the best sighting's face, the one that scored the alert's score, and its
    frame), every sighting's face and frame, and the subject's accepted reference photos."""
    alert = case.alert
    best = alert.best_sighting()
    probe = (best.face_crop, best.frame_image) if best is not None else (alert.probe_crop, alert.evidence_frame)
    files: dict[str, bytes] = {}
    for name, field in (("images/probe.jpg", probe[0]), ("images/frame.jpg", probe[1])):
        data = _read(field)
        if data is not None:
            files[name] = data
    for sighting in alert.sightings.all():
        for kind, field in (("face", sighting.face_crop), ("frame", sighting.frame_image)):
            data = _read(field)
            if data is not None:
                files[f"images/sighting-{sighting.pk}-{kind}.jpg"] = data
    for photo in _reference_photos(alert):
        data = _read(photo.face_crop or photo.image)
        if data is not None:
            files[f"images/reference-{photo.pk}.jpg"] = data
    return files


def _reference_photos(alert: Alert) -> list[ReferencePhoto]:
    if alert.subject_id is None:
        return []
    return list(ReferencePhoto.objects.filter(subject_id=alert.subject_id, status="accepted").order_by("pk"))


def metadata(case: Case, user: User, images: list[str]) -> dict[str, Any]:
    alert = case.alert
    best = alert.best_sighting()
    return {
        "case": {
            "reference": case.reference,
            "status": case.status,
            "opened_at": case.opened_at.isoformat(),
            "opened_by": case.opened_by.get_username() if case.opened_by else None,
            "closed_at": case.closed_at.isoformat() if case.closed_at else None,
            "outcome": case.outcome,
            "notes": [
                {"at": n.created_at.isoformat(), "by": n.author.get_username() if n.author else None, "text": n.text}
                for n in case.notes.select_related("author")
            ],
        },
        "alert": serialize_alert(alert),
        # The face shown with the alert's score: the best sighting's (images/probe.jpg is its face).
        "probe": None if best is None else {"sighting_id": best.pk, "score": round(best.score, 4)},
        "bank_review": {
            "note": alert.note,
            "reviewed_by": alert.reviewed_by.get_username() if alert.reviewed_by else None,
        },
        # Every move of the alert and its case: who, when, what, why, the note (alerts/history.py).
        "history": [
            {"at": m.at.isoformat(), "by": m.who, "action": m.action, "reason": m.reason, "note": m.note}
            for m in alert_history(alert)
        ],
        # A covered-face event names no one: its evidence is the covering seen, in "alert".
        "subject": None
        if alert.subject is None or alert.watchlist is None
        else {
            "id": alert.subject_id,
            "full_name": alert.subject.full_name,
            "aliases": alert.subject.alias_list,
            "notes": alert.subject.notes,
            "caution": [flag["code"] for flag in alert.subject.caution_flags],
            "case_reference": alert.subject.case_reference,
            "legal_basis": alert.subject.legal_basis,
            "reference_photos": [f"images/reference-{p.pk}.jpg" for p in _reference_photos(alert)],
            "watchlist": alert.watchlist.name,
            "agency": alert.watchlist.agency,
        },
        "sightings": [
            {
                "id": s.pk,
                "seen_at": s.seen_at.isoformat(),
                "score": round(s.score, 4),
                "covering": s.covering or None,
                "camera": str(s.camera),
                "box": s.box,
            }
            for s in alert.sightings.select_related("camera__branch__bank")
        ],
        "images": images,
        "exported_by": user.get_username(),
        "exported_at": timezone.now().isoformat(),
    }


def build_evidence_zip(case: Case, user: User, *, request: HttpRequest | None = None) -> tuple[bytes, str]:
    """The zip's bytes and the SHA-256 of its manifest; the export is audited."""
    files = evidence_files(case)
    files["metadata.json"] = json.dumps(metadata(case, user, sorted(files)), indent=2, ensure_ascii=False).encode()
    data, manifest_sha256, listed = zip_with_manifest(files)
    record(
        "case.evidence_exported",
        case,
        actor=user,
        request=request,
        manifest_sha256=manifest_sha256,
        files=listed,
        alert_id=case.alert_id,
    )
    return data, manifest_sha256


def zip_with_manifest(files: dict[str, bytes]) -> tuple[bytes, str, int]:
    """A zip of `files` and a SHA256SUMS listing each: the zip's bytes, the SHA-256 of SHA256SUMS (what the
    audit entry keeps, so verify_evidence can find the export) and how many files SHA256SUMS lists."""
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
        archive.writestr(MANIFEST, manifest)
    return buffer.getvalue(), hashlib.sha256(manifest.encode()).hexdigest(), len(files)


def verify_evidence_zip(data: bytes) -> dict[str, Any]:
    """Recompute every hash of an exported zip and find its export in the audit log.

    ok is true only when each file matches SHA256SUMS, no file is missing or extra, and the
    SHA-256 of SHA256SUMS is the one recorded when the zip was exported.
    """
    from audit.models import AuditEntry

    problems: list[str] = []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        manifest = archive.read(MANIFEST)
    except (zipfile.BadZipFile, KeyError) as exc:
        return {"ok": False, "problems": [f"not an evidence zip: {exc}"]}
    listed: dict[str, str] = {}
    for line in manifest.decode().splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    for name, digest in sorted(listed.items()):
        if name not in names:
            problems.append(f"{name} is missing")
        elif hashlib.sha256(archive.read(name)).hexdigest() != digest:
            problems.append(f"{name} was changed")
    problems += [f"{name} is not in the manifest" for name in sorted(names - set(listed) - {MANIFEST})]
    manifest_sha256 = hashlib.sha256(manifest).hexdigest()
    entry = (
        AuditEntry.objects.filter(action="case.evidence_exported", detail__manifest_sha256=manifest_sha256)
        .order_by("at")
        .first()
    )
    if entry is None:
        problems.append("no export with this manifest is in the audit log")
    return {
        "ok": not problems,
        "problems": problems,
        "files": len(listed),
        "manifest_sha256": manifest_sha256,
        "exported_by": entry.actor_label if entry else None,
        "exported_at": entry.at.isoformat() if entry else None,
        "case_id": int(entry.object_id) if entry else None,
    }


def export_response(case: Case, user: User, request: HttpRequest) -> HttpResponse:
    if not can_run_cases(user):
        raise PermissionDenied
    data, manifest_sha256 = build_evidence_zip(case, user, request=request)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{case.reference}-evidence.zip"'
    response["X-Manifest-SHA256"] = manifest_sha256
    private(response)  # biometric data: no cache keeps it (bankwatch/biometrics.py)
    return response
