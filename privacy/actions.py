"""The data protection officer's state changes. Each writes its row and its audit entry together
(audit/log.py); the admin (privacy/admin.py) and the commands call them, nothing else writes."""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.utils import timezone, translation

from accounts.models import User
from alerts.models import Alert
from audit.log import record
from audit.models import AuditEntry
from cases.export import zip_with_manifest
from cases.models import held_alert_ids
from enrollment.models import CounterExample, GalleryVersion, Subject
from organizations.models import Bank
from privacy import report as reports
from privacy.models import Breach, DataRequest, PrivacyReport
from privacy.search import Found, search_photo
from retention.jobs import delete_subject_biometrics, purge_alert_images

FORMATS = ("pdf", "html")


def _check(user: User | None) -> None:
    """Actions from a person need the officer (or an administrator); commands pass no user."""
    if user is not None and not user.is_data_protection_officer:
        raise PermissionDenied("data protection officer only")


def produce_report(
    fmt: str = "pdf",
    *,
    language: str = "",
    actor: User | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> tuple[PrivacyReport, bytes]:
    """Generate the impact assessment now, in `language` (the officer's, or the default one); the row
    is what the six-month reminder counts from."""
    _check(actor)
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    with translation.override(language or (actor.language if actor else "") or settings.LANGUAGE_CODE):
        report = reports.gather(now)
        html = reports.render_html(report)
    content = reports.html_to_pdf(html) if fmt == "pdf" else html.encode()
    figures = {k: report.figures[k] for k in ("subjects", "templates", "alerts")}
    with transaction.atomic():
        row = PrivacyReport.objects.create(
            produced_at=report.produced_at, produced_by=actor, format=fmt, figures=report.figures
        )
        record(
            "privacy.report_produced",
            row,
            actor=actor,
            actor_label="" if actor else "cli",
            request=request,
            format=fmt,
            sha256=hashlib.sha256(content).hexdigest(),
            **figures,
        )
    return row, content


def last_report() -> PrivacyReport | None:
    return PrivacyReport.objects.order_by("-produced_at").first()


def report_reminder_due(now: datetime | None = None) -> bool:
    """Whether the officer must be reminded: no assessment yet, or the last one is older than
    BANKWATCH_PRIVACY_REPORT_REMINDER_DAYS (six months)."""
    last = last_report()
    cutoff = (now or timezone.now()) - timedelta(days=settings.PRIVACY_REPORT_REMINDER_DAYS)
    return last is None or last.produced_at < cutoff


def record_request(
    kind: str,
    requester: str,
    received_at: datetime,
    *,
    contact: str = "",
    details: str = "",
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> DataRequest:
    """A request from a person concerned, with its legal deadline (BANKWATCH_PRIVACY_REQUEST_DEADLINE_HOURS)."""
    _check(actor)
    with transaction.atomic():
        row = DataRequest.objects.create(
            kind=kind,
            requester=requester,
            contact=contact,
            details=details,
            received_at=received_at,
            deadline=received_at + timedelta(hours=settings.PRIVACY_REQUEST_DEADLINE_HOURS),
            recorded_by=actor,
        )
        record(
            "privacy.request_recorded", row, actor=actor, request=request, kind=kind, deadline=row.deadline.isoformat()
        )
    return row


def subject_access_search(
    photo: bytes,
    *,
    data_request: DataRequest | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> Found:
    """Search by the requester's photo (privacy/search.py keeps nothing of it); the request keeps
    the ids found. Audited with what was found, never with the photo."""
    _check(actor)
    found = search_photo(photo)
    with transaction.atomic():
        if data_request is not None:
            DataRequest.objects.filter(pk=data_request.pk).update(found=found.ids(), searched_at=timezone.now())
            data_request.refresh_from_db()
        record(
            "privacy.subject_access_search",
            data_request,
            actor=actor,
            actor_label="" if actor else "cli",
            request=request,
            **found.ids(),
        )
    return found


def _read(field: FieldFile) -> bytes | None:
    if not field or not field.name:
        return None
    try:
        with field.open("rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _answered(data_request: DataRequest, answer: str) -> None:
    DataRequest.objects.filter(pk=data_request.pk).update(
        status=DataRequest.Status.ANSWERED, answer=answer, answered_at=timezone.now()
    )
    data_request.refresh_from_db()


def _found(data_request: DataRequest) -> dict[str, list[int]]:
    if data_request.searched_at is None:
        raise ValueError("search with the requester's photo first")
    return {key: list(data_request.found.get(key, [])) for key in ("subjects", "alerts", "counter_examples")}


def export_for_request(
    data_request: DataRequest, *, actor: User | None = None, request: HttpRequest | None = None
) -> bytes:
    """The access answer: a zip of what is held about the face the search found (metadata.json, the
    reference photos, the alerts' face crops), with SHA256SUMS; its digest goes into the audit log."""
    _check(actor)
    found = _found(data_request)
    files: dict[str, bytes] = {}
    subjects = []
    for subject in Subject.objects.filter(pk__in=found["subjects"]).select_related("watchlist"):
        photos = []
        for photo in subject.photos.all():
            data = _read(photo.image)
            if data is not None:
                name = f"subjects/{subject.pk}/photo-{photo.pk}.jpg"
                files[name] = data
                photos.append(name)
        subjects.append(
            {
                "id": subject.pk,
                "full_name": subject.full_name,
                "aliases": subject.aliases,
                "watchlist": subject.watchlist.name,
                "agency": subject.watchlist.agency,
                "legal_basis": subject.legal_basis,
                "case_reference": subject.case_reference,
                "added_at": subject.added_at.isoformat(),
                "status": subject.status,
                "expires_at": subject.expires_at.isoformat() if subject.expires_at else None,
                "templates": subject.templates.count(),
                "photos": photos,
            }
        )
    alerts = []
    for alert in Alert.objects.filter(pk__in=found["alerts"]).select_related("branch", "bank"):
        data = _read(alert.probe_crop)
        if data is not None:
            files[f"alerts/{alert.pk}/face.jpg"] = data
        alerts.append(
            {
                "id": alert.pk,
                "kind": alert.kind,
                "seen_at": alert.created_at.isoformat(),
                "last_seen_at": alert.last_seen_at.isoformat(),
                "bank": alert.bank.name,
                "branch": alert.branch.name,
                "status": alert.status,
                "subject_id": alert.subject_id,
                "score": alert.score,
                "sightings": alert.sightings.count(),
            }
        )
    examples = CounterExample.objects.filter(pk__in=found["counter_examples"])
    metadata = {
        "request": {
            "id": data_request.pk,
            "kind": data_request.kind,
            "requester": data_request.requester,
            "received_at": data_request.received_at.isoformat(),
        },
        "exported_at": timezone.now().isoformat(),
        "subjects": subjects,
        "alerts": alerts,
        "counter_examples": [
            {"id": e.pk, "subject_id": e.subject_id, "created_at": e.created_at.isoformat()} for e in examples
        ],
    }
    files["metadata.json"] = json.dumps(metadata, indent=2, ensure_ascii=False).encode()
    data, manifest_sha256, listed = zip_with_manifest(files)
    with transaction.atomic():
        _answered(data_request, f"export of {len(subjects)} subject(s), {len(alerts)} alert(s)")
        record(
            "privacy.request_exported",
            data_request,
            actor=actor,
            actor_label="" if actor else "cli",
            request=request,
            manifest_sha256=manifest_sha256,
            files=listed,
        )
    return data


def delete_for_request(
    data_request: DataRequest, *, actor: User | None = None, request: HttpRequest | None = None
) -> dict[str, Any]:
    """The deletion answer: the matched subjects' photos (bytes first), crops, templates and
    counter-examples, the found alerts' images and embeddings, the counter-examples of the face;
    a legal hold keeps its alert, sightings and their images, and the answer names them."""
    _check(actor)
    found = _found(data_request)
    now = timezone.now()
    subjects = [
        delete_subject_biometrics(
            subject,
            now,
            action="privacy.subject_data_deleted",
            actor=actor,
            status=Subject.Status.REMOVED,
            request_id=data_request.pk,
        )
        for subject in Subject.objects.filter(pk__in=found["subjects"])
    ]
    held = sorted(set(held_alert_ids().filter(alert_id__in=found["alerts"])))
    alerts = purge_alert_images(
        Alert.objects.filter(pk__in=found["alerts"]),
        action="privacy.alert_data_deleted",
        actor=actor,
        request_id=data_request.pk,
    )
    with transaction.atomic():
        examples, _ = CounterExample.objects.filter(pk__in=found["counter_examples"]).delete()
        if examples:
            GalleryVersion.bump()
        summary = {
            "subjects": len(subjects),
            "photos": sum(s["photos"] for s in subjects),
            "templates": sum(s["templates"] for s in subjects),
            "alerts_purged": alerts,
            "counter_examples": examples + sum(s["counter_examples"] for s in subjects),
            "kept_by_hold": held,
        }
        answer = f"deleted: {json.dumps(summary)}"
        if held:
            answer += f"; alerts {', '.join(f'#{pk}' for pk in held)} kept under a legal hold (an open case)"
        _answered(data_request, answer)
        record(
            "privacy.request_deleted",
            data_request,
            actor=actor,
            actor_label="" if actor else "cli",
            request=request,
            **summary,
        )
    return summary


def answer_request(
    data_request: DataRequest,
    status: str,
    answer: str,
    *,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> DataRequest:
    """Close a request in words: a correction made (the curators change the subject), or a refusal
    with its legal reason (a watchlist entry the police still need, for instance)."""
    _check(actor)
    if status not in (DataRequest.Status.ANSWERED, DataRequest.Status.REFUSED) or not answer.strip():
        raise ValueError("an answer needs its text, and answered or refused")
    with transaction.atomic():
        DataRequest.objects.filter(pk=data_request.pk).update(
            status=status, answer=answer.strip(), answered_at=timezone.now()
        )
        data_request.refresh_from_db()
        record("privacy.request_answered", data_request, actor=actor, request=request, status=status)
    return data_request


def audit_excerpt(start: datetime, end: datetime, limit: int = 500) -> list[dict[str, Any]]:
    entries = AuditEntry.objects.filter(at__gte=start, at__lte=end).order_by("at", "id")[:limit]
    return [
        {
            "at": e.at.isoformat(),
            "actor": e.actor_label,
            "action": e.action,
            "object": f"{e.object_type}:{e.object_id}" if e.object_type else "",
            "ip": e.ip,
        }
        for e in entries
    ]


def record_breach(breach: Breach, *, actor: User | None = None, request: HttpRequest | None = None) -> Breach:
    """Enter a breach in the register, with the audit log from BANKWATCH_PRIVACY_BREACH_EXCERPT_HOURS
    before it occurred (or was found) until it was found; a change later keeps the excerpt."""
    _check(actor)
    with transaction.atomic():
        created = breach.pk is None
        if created:
            start = (breach.occurred_at or breach.found_at) - timedelta(hours=settings.PRIVACY_BREACH_EXCERPT_HOURS)
            breach.audit_excerpt = audit_excerpt(start, breach.found_at)
            breach.recorded_by = actor
        breach.save()
        record(
            "privacy.breach_recorded" if created else "privacy.breach_changed",
            breach,
            actor=actor,
            request=request,
            people_affected=breach.people_affected,
            authority_notified_at=breach.authority_notified_at.isoformat() if breach.authority_notified_at else None,
        )
    return breach


def set_notice(bank: Bank, vi: str, en: str, *, actor: User | None = None, request: HttpRequest | None = None) -> Bank:
    """A bank's own recognition notice (entrance displays, the A4 sign); empty: the default one."""
    _check(actor)
    with transaction.atomic():
        Bank.objects.filter(pk=bank.pk).update(recognition_notice_vi=vi.strip(), recognition_notice_en=en.strip())
        bank.refresh_from_db()
        record("privacy.notice_changed", bank, actor=actor, request=request)
    return bank
