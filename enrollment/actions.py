"""Every change to what the watchlist holds, each in one function.

Each function writes the row and its audit entry in one transaction. The gallery version
is bumped by enrollment/signals.py on every save or delete of a subject, template,
counter-example or watchlist, so whichever path a change takes (these functions, the
admin, the API, a shell), every recognition process sees it on its next search.
"""

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from pathlib import PurePath
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext
from numpy.typing import NDArray

from accounts.models import User
from audit.log import record
from bankwatch import jobs
from enrollment import archive, quality
from enrollment.models import CounterExample, FaceTemplate, ImportJob, ReferencePhoto, Subject, Watchlist
from enrollment.reasons import problem, render
from organizations.models import Bank, Branch
from recognition.decision import PHOTO_MAX_SIDE, template_embedding
from recognition.images import PHOTO_FORMATS, InvalidImageError, decode_image, encode_jpeg
from recognition.model_id import model_id

logger = logging.getLogger(__name__)

# Reference photos are decoded at this size at most: large enough that a face of the
# minimum size in a group or full-body photo is still found, small enough to be quick.


@transaction.atomic
def save_watchlist(
    watchlist: Watchlist,
    *,
    banks: Iterable[Bank] | None = None,
    branches: Iterable[Branch] | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
    changed: Iterable[str] = (),
) -> Watchlist:
    """Create or change a watchlist: validated on the model (enrollment/models.py), saved, audited.

    The admin's form and the API's serializer hand their instance here, so both refuse the same
    values with the same words, and a bad value from the importer or a shell is refused too.
    """
    created = watchlist.pk is None
    watchlist.full_clean()
    watchlist.save()
    if banks is not None:
        watchlist.banks.set(banks)
    if branches is not None:
        watchlist.branches.set(branches)
    if created:
        record("watchlist.created", watchlist, actor=actor, request=request, name=watchlist.name)
    else:
        record("watchlist.changed", watchlist, actor=actor, request=request, fields=sorted(changed))
    return watchlist


def create_watchlist(
    name: str,
    *,
    actor: User | None = None,
    request: HttpRequest | None = None,
    banks: Iterable[Bank] | None = None,
    branches: Iterable[Branch] | None = None,
    **fields: Any,
) -> Watchlist:
    return change_watchlist(
        Watchlist(name=name), actor=actor, request=request, banks=banks, branches=branches, **fields
    )


def change_watchlist(
    watchlist: Watchlist,
    *,
    actor: User | None = None,
    request: HttpRequest | None = None,
    banks: Iterable[Bank] | None = None,
    branches: Iterable[Branch] | None = None,
    **fields: Any,
) -> Watchlist:
    for field, value in fields.items():
        setattr(watchlist, field, value)
    changed = [*fields, *(["banks"] if banks is not None else []), *(["branches"] if branches is not None else [])]
    return save_watchlist(watchlist, banks=banks, branches=branches, actor=actor, request=request, changed=changed)


@transaction.atomic
def save_subject(
    subject: Subject,
    *,
    actor: User | None = None,
    request: HttpRequest | None = None,
    changed: Iterable[str] = (),
) -> Subject:
    """Create a subject, or change its details (its status changes through set_subject_status)."""
    created = subject.pk is None
    if created and subject.added_by is None:
        subject.added_by = actor
    subject.full_clean()
    subject.save()
    if created:
        record(
            "subject.created",
            subject,
            actor=actor,
            request=request,
            name=subject.full_name,
            watchlist=subject.watchlist.name,
            legal_basis=subject.legal_basis,
        )
    elif changed:
        record("subject.changed", subject, actor=actor, request=request, fields=sorted(changed))
    return subject


def create_subject(
    watchlist: Watchlist,
    full_name: str,
    *,
    added_by: User | None = None,
    request: HttpRequest | None = None,
    **fields: Any,
) -> Subject:
    subject = Subject(watchlist=watchlist, full_name=full_name, added_by=added_by, **fields)
    return save_subject(subject, actor=added_by, request=request)


@transaction.atomic
def change_subject(
    subject: Subject, *, actor: User | None = None, request: HttpRequest | None = None, **fields: Any
) -> Subject:
    """Change a subject's details and, when `status` is among them, its status (audited on its own)."""
    status = fields.pop("status", None)
    for field, value in fields.items():
        setattr(subject, field, value)
    save_subject(subject, actor=actor, request=request, changed=list(fields))
    if status is not None:
        set_subject_status(subject, status, actor=actor, request=request, reason="changed by a curator")
    return subject


@transaction.atomic
def set_subject_status(
    subject: Subject,
    status: str,
    *,
    actor: User | None = None,
    request: HttpRequest | None = None,
    reason: str = "",
) -> Subject:
    """Activate, expire or remove a subject. Removed and expired subjects stop matching at once."""
    if status not in Subject.Status.values:
        raise ValueError(f"unknown subject status {status!r}")
    locked = Subject.objects.select_for_update().get(pk=subject.pk)
    if locked.status == status:
        return locked
    previous = locked.status
    locked.status = status
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_changed_at"])
    action = {"active": "subject.activated", "expired": "subject.expired", "removed": "subject.removed"}[status]
    record(action, locked, actor=actor, request=request, previous=previous, reason=reason)
    subject.status, subject.status_changed_at = locked.status, locked.status_changed_at
    return locked


def remove_subject(
    subject: Subject, *, actor: User | None = None, request: HttpRequest | None = None, reason: str = ""
) -> Subject:
    return set_subject_status(subject, Subject.Status.REMOVED, actor=actor, request=request, reason=reason)


def expire_due_subjects() -> int:
    """Mark active subjects past their expiry date as expired (search already ignores them)."""
    due = Subject.objects.filter(status=Subject.Status.ACTIVE, expires_at__lte=timezone.now())
    count = 0
    for subject in due:
        set_subject_status(subject, Subject.Status.EXPIRED, reason="expiry date passed")
        count += 1
    return count


def add_photo(
    subject: Subject,
    data: bytes,
    filename: str = "photo.jpg",
    *,
    uploaded_by: User | None = None,
    request: HttpRequest | None = None,
    import_job: ImportJob | None = None,
) -> ReferencePhoto:
    """Store a reference photo as pending and queue its enrollment. Raises InvalidImageError for non-images."""
    decode_image(data, max_side=256, formats=PHOTO_FORMATS)  # refuse non-images before storing anything
    suffix = (
        PurePath(filename).suffix.lower()
        if PurePath(filename).suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}
        else ".jpg"
    )
    with transaction.atomic():
        photo = ReferencePhoto(
            subject=subject, uploaded_by=uploaded_by, import_job=import_job, original_name=PurePath(filename).name[:200]
        )
        photo.image.save(f"{uuid.uuid4().hex}{suffix}", ContentFile(data), save=False)
        photo.save()
        record(
            "photo.uploaded",
            photo,
            actor=uploaded_by,
            request=request,
            subject_id=subject.pk,
            filename=PurePath(filename).name[:200],
        )
        queue_enrollment(photo)
    return photo


@transaction.atomic
def delete_photo(photo: ReferencePhoto, *, actor: User | None = None, request: HttpRequest | None = None) -> None:
    """Take a reference photo (a wrong one, say) off the subject: its templates go with it at once."""
    record(
        "photo.deleted",
        photo,
        actor=actor,
        request=request,
        subject_id=photo.subject_id,
        status=photo.status,
        filename=photo.original_name,
    )
    files = [f for f in (photo.image, photo.face_crop) if f]
    photo.delete()  # cascades to its templates; their post_delete bumps the gallery
    for field in files:
        transaction.on_commit(partial(field.storage.delete, str(field.name)))


def queue_enrollment(photo: ReferencePhoto) -> None:
    jobs.enqueue("enrollment.enroll_photo", photo.pk)


def _set_reason(photo: ReferencePhoto, code: str, params: dict[str, Any]) -> str:
    """Store why (a code and its parameters); returns the English sentence, also kept for search and audit."""
    with translation.override("en"):
        english = render(code, params)[:300] if code else ""
    photo.rejection_code, photo.rejection_params, photo.rejection_reason = code, params, english
    return english


@transaction.atomic
def _mark_failed(photo_id: int, error: str) -> ReferencePhoto:
    photo = ReferencePhoto.objects.select_for_update().get(pk=photo_id)
    photo.status = ReferencePhoto.Status.FAILED
    reason = _set_reason(photo, "photo.job_failed", {"error": error[:200]})
    photo.processed_at = timezone.now()
    photo.save(update_fields=["status", "rejection_code", "rejection_params", "rejection_reason", "processed_at"])
    record("photo.failed", photo, actor_label="enrollment", subject_id=photo.subject_id, reason=reason)
    return photo


def enroll_photo(photo_id: int) -> ReferencePhoto:  # noqa: C901 - the numbered steps below, each with its failure
    """The enrollment job: check the photo's quality, make its template, record the outcome.

    1. Decode and analyse the photo outside any transaction (the slow part).
    2. Judge it with the quality gate (enrollment/quality.py).
    3. In one transaction: the crop of the subject's face, the templates for the current
       model (or none, when rejected: the face as it is, and the face behind a synthetic mask
       for masked probes, recognition/masking.py), the photo's status and reason, the audit entry.
    Running it again (re-enroll) replaces this model's template of the photo.
    """
    from recognition.engine import get_engine
    from recognition.masking import masked_embedding

    photo = ReferencePhoto.objects.get(pk=photo_id)
    try:
        engine = get_engine()
        image: NDArray[np.uint8] | None = None
        masked: NDArray[np.float32] | None = None
        try:
            with photo.image.open("rb") as handle:
                data = handle.read()
            image = decode_image(data, max_side=PHOTO_MAX_SIDE, formats=PHOTO_FORMATS)
        except InvalidImageError as exc:
            verdict = quality.Verdict(False, exc.code, params=exc.params)
        except OSError:
            verdict = quality.Verdict(False, "photo.missing_file")
        if image is not None:
            verdict = quality.check(image, engine.analyze(image))
            if verdict.accepted and verdict.face is not None:
                verdict = _check_consistency(photo, verdict, engine.model_id)
            if verdict.accepted and verdict.face is not None:
                verdict = _check_duplicate(photo, verdict, engine.model_id)
            if verdict.accepted and verdict.face is not None and settings.MASKED_TEMPLATES:
                masked = masked_embedding(engine, image, verdict.face)
    except Exception as exc:  # the job broke, not the photo: say so now rather than stay pending
        logger.exception("enrollment of photo %s failed", photo_id)
        return _mark_failed(photo_id, f"{exc.__class__.__name__}: {exc}")
    with transaction.atomic():
        photo = ReferencePhoto.objects.select_for_update().get(pk=photo_id)
        if photo.face_crop:
            photo.face_crop.delete(save=False)
        # A crop is kept only of a face that is, or may become, the subject's (accepted, or held for a
        # curator to compare): a rejected photo keeps none, so no thumbnail is ever cut from it.
        if verdict.face is not None and (verdict.accepted or verdict.held_with is not None):
            photo.face_crop.save(f"{uuid.uuid4().hex}.jpg", ContentFile(encode_jpeg(verdict.face.crop)), save=False)
        photo.quality = verdict.measures
        photo.processed_at = timezone.now()
        if verdict.accepted and verdict.face is not None:
            photo.status = ReferencePhoto.Status.ACCEPTED
            _set_reason(photo, "", {})
            photo.save()
            # A new row rather than an update: a template's id always names the same vector,
            # which the approximate index relies on.
            for template in FaceTemplate.objects.filter(photo=photo, model_id=engine.model_id):
                template.delete()
            FaceTemplate.objects.create(
                photo=photo,
                subject_id=photo.subject_id,
                model_id=engine.model_id,
                embedding=np.asarray(template_embedding(engine, verdict.face), dtype=np.float32).tobytes(),
            )
            if masked is not None:  # the same face behind a synthetic mask, for masked probes
                FaceTemplate.objects.create(
                    photo=photo,
                    subject_id=photo.subject_id,
                    model_id=engine.model_id,
                    embedding=np.asarray(masked, dtype=np.float32).tobytes(),
                    masked=True,
                )
            record(
                "photo.accepted",
                photo,
                actor_label="enrollment",
                subject_id=photo.subject_id,
                model_id=engine.model_id,
                **verdict.measures,
            )
        elif verdict.held_with is not None:
            photo.status = ReferencePhoto.Status.HELD
            photo.held_with_id = verdict.held_with
            reason = _set_reason(photo, verdict.code, verdict.params)
            photo.save()
            record(
                "photo.held",
                photo,
                actor_label="enrollment",
                subject_id=photo.subject_id,
                held_with=verdict.held_with,
                reason=reason,
                **verdict.measures,
            )
        else:
            photo.status = ReferencePhoto.Status.REJECTED
            reason = _set_reason(photo, verdict.code, verdict.params)
            photo.save()
            for template in FaceTemplate.objects.filter(photo=photo, model_id=engine.model_id):
                template.delete()  # one by one, so the gallery hears of it
            record(
                "photo.rejected",
                photo,
                actor_label="enrollment",
                subject_id=photo.subject_id,
                reason=reason,
                code=verdict.code,
                **verdict.measures,
            )
    return photo


def _check_consistency(photo: ReferencePhoto, verdict: quality.Verdict, model_id: str) -> quality.Verdict:
    """Refuse a photo that would not match the subject's own accepted photos: probably someone else.

    A wrong face on the watchlist is the costliest mistake the product can make (it sends the
    police after an innocent customer), so a photo must look like the subject's other photos
    at the watchlist's own threshold. The subject's first photo has nothing to agree with.
    """
    assert verdict.face is not None
    others = list(
        FaceTemplate.objects.filter(
            subject_id=photo.subject_id, model_id=model_id, photo__status="accepted", masked=False
        )
        .exclude(photo_id=photo.pk)
        .values_list("embedding", flat=True)
    )
    if not others:
        return verdict
    matrix = np.stack([np.frombuffer(bytes(blob), dtype=np.float32) for blob in others])
    best = float(np.max(matrix @ np.asarray(verdict.face.embedding, dtype=np.float32)))
    threshold = Subject.objects.select_related("watchlist").get(pk=photo.subject_id).watchlist.effective_threshold
    measures = {**verdict.measures, "similarity_to_subject": round(best, 3)}
    if best >= threshold:
        return quality.Verdict(True, "", verdict.face, measures)
    return quality.Verdict(
        False,
        "photo.not_this_subject",
        verdict.face,
        measures,
        {"similarity": round(best, 2), "threshold": round(threshold, 2)},
    )


def _check_duplicate(photo: ReferencePhoto, verdict: quality.Verdict, model_id: str) -> quality.Verdict:
    """Hold a face that matches another subject's accepted template at this watchlist's threshold.

    The same face under two subjects makes every alert for it name the wrong one of them, so a
    curator decides (decide_duplicate): the same person (the photo moves to the other subject)
    or different people (accepted here, with a note). Compared with the gallery's own snapshot
    of matchable subjects, so it costs one matrix product, as a frame's search does.
    """
    from enrollment import gallery

    assert verdict.face is not None
    if photo.decision:
        return verdict  # a curator has decided already
    snapshot = gallery.snapshot()
    if snapshot.size == 0 or snapshot.model_id != model_id:
        return verdict
    scores = snapshot.matrix @ np.asarray(verdict.face.embedding, dtype=np.float32)
    own = snapshot.subject_ids[snapshot.template_subject] == photo.subject_id
    scores[own | snapshot.template_masked] = -np.inf
    row = int(np.argmax(scores))
    subject = Subject.objects.select_related("watchlist").get(pk=photo.subject_id)
    threshold = subject.watchlist.effective_threshold
    best = float(scores[row])
    if best < threshold:
        return verdict
    other = Subject.objects.select_related("watchlist").get(
        pk=int(snapshot.subject_ids[snapshot.template_subject[row]])
    )
    params = {
        "name": other.full_name,
        "watchlist": other.watchlist.name,
        "similarity": round(best, 2),
        "threshold": round(threshold, 2),
    }
    measures = {**verdict.measures, "similarity_to_other_subject": round(best, 3)}
    return quality.Verdict(False, "photo.same_face_as", verdict.face, measures, params, held_with=other.pk)


@transaction.atomic
def decide_duplicate(
    photo: ReferencePhoto, decision: str, *, actor: User | None, request: HttpRequest | None = None, note: str = ""
) -> ReferencePhoto:
    """A curator's decision on a photo held as the same face as another subject's, audited.

    same: the photo moves to the other subject and is enrolled there (its face agrees with that
    subject's photos). different: it is enrolled on its own subject after all; the note says why.
    """
    locked = ReferencePhoto.objects.select_for_update().get(pk=photo.pk)
    if locked.status != ReferencePhoto.Status.HELD:
        raise ValidationError(gettext("This photo is not held for a decision."))
    if decision == ReferencePhoto.Decision.SAME and locked.held_with_id is None:
        raise ValidationError(gettext("The subject it matched is gone: decide “different people” instead."))
    if decision == ReferencePhoto.Decision.DIFFERENT and not note.strip():
        raise ValidationError(gettext("Say why these are different people: the note is kept with the decision."))
    if decision not in ReferencePhoto.Decision.values:
        raise ValidationError(gettext("Decide “same” or “different”."))
    moved_from = locked.subject_id
    if decision == ReferencePhoto.Decision.SAME:
        locked.subject_id = locked.held_with_id  # type: ignore[assignment]
    locked.decision, locked.decision_note = decision, note.strip()
    locked.status = ReferencePhoto.Status.PENDING
    _set_reason(locked, "", {})
    locked.save()
    record(
        "photo.duplicate_decided",
        locked,
        actor=actor,
        request=request,
        decision=decision,
        note=locked.decision_note,
        held_with=locked.held_with_id,
        subject_id=locked.subject_id,
        moved_from=moved_from if moved_from != locked.subject_id else None,
    )
    queue_enrollment(locked)
    return ReferencePhoto.objects.get(pk=locked.pk)  # enrolled already when jobs run inline


def purge_rejected_photos(now: datetime) -> int:
    """Rejected reference photos go BANKWATCH_RETENTION_REJECTED_PHOTO_DAYS after their verdict:
    a face that is not (or not usably) the subject's has no reason to stay."""
    cutoff = now - timedelta(days=settings.RETENTION_REJECTED_PHOTO_DAYS)
    rejected = list(ReferencePhoto.objects.filter(status=ReferencePhoto.Status.REJECTED, processed_at__lt=cutoff))
    for photo in rejected:
        delete_photo(photo, actor=None)
    return len(rejected)


def photos_needing_reenrollment() -> "QuerySet[ReferencePhoto]":
    """Accepted photos without a template of the current model (after the model setting changed)."""
    return ReferencePhoto.objects.filter(status=ReferencePhoto.Status.ACCEPTED).exclude(templates__model_id=model_id())


@transaction.atomic
def reenroll_all(*, actor: User | None = None, request: HttpRequest | None = None) -> int:
    """Queue every accepted photo that has no template of the current model; returns how many."""
    photos = list(photos_needing_reenrollment())
    for photo in photos:
        queue_enrollment(photo)
    record("gallery.reenroll", None, actor=actor, request=request, model_id=model_id(), photos=len(photos))
    return len(photos)


@transaction.atomic
def add_counter_example(
    subject: Subject,
    embedding: NDArray[np.float32],
    *,
    created_by: User | None,
    source_alert_id: int | None,
    bank: Bank | None = None,
    branch: Branch | None = None,
) -> CounterExample:
    """Record "this face is not <subject>" where the reviewer works: the gallery stops matching faces
    closer to it than to the subject, at that branch or bank only (everywhere needs a curator).

    A probe that scores far above the threshold against the subject's own templates
    (BANKWATCH_COUNTER_EXAMPLE_HOLD_MARGIN) is probably the subject after all: it is held for a
    curator instead of applied. It expires with the dismissed alert's images.
    """
    vector = np.asarray(embedding, dtype=np.float32).ravel()
    norm = float(np.linalg.norm(vector))
    if norm > 0:
        vector = vector / norm
    own = [
        np.frombuffer(bytes(blob), dtype=np.float32)
        for blob in FaceTemplate.objects.filter(subject=subject, model_id=model_id(), masked=False).values_list(
            "embedding", flat=True
        )
    ]
    similarity = float(np.max(np.stack(own) @ vector)) if own and len(own[0]) == len(vector) else None
    hold_above = subject.watchlist.effective_threshold + settings.COUNTER_EXAMPLE_HOLD_MARGIN
    held = similarity is not None and similarity >= hold_above
    counter = CounterExample.objects.create(
        subject=subject,
        model_id=model_id(),
        embedding=vector.astype(np.float32).tobytes(),
        created_by=created_by,
        source_alert_id=source_alert_id,
        status=CounterExample.Status.HELD if held else CounterExample.Status.ACTIVE,
        bank=bank if branch is None else branch.bank,
        branch=branch,
        similarity_to_subject=None if similarity is None else round(similarity, 4),
        expires_at=timezone.now() + timedelta(days=settings.RETENTION_DISMISSED_ALERT_DAYS),
    )
    record(
        "counter_example.held" if held else "counter_example.added",
        counter,
        actor=created_by,
        subject_id=subject.pk,
        source_alert_id=source_alert_id,
        scope=counter.scope,
        similarity=counter.similarity_to_subject,
    )
    return counter


@transaction.atomic
def approve_counter_example(
    counter: CounterExample, *, everywhere: bool, actor: User | None, request: HttpRequest | None = None
) -> CounterExample:
    """A curator applies a held counter-example, or (everywhere) widens one to every bank."""
    locked = CounterExample.objects.select_for_update().get(pk=counter.pk)
    locked.status = CounterExample.Status.ACTIVE
    if everywhere:
        locked.bank, locked.branch = None, None
    locked.approved_by = actor
    locked.save()
    record(
        "counter_example.approved",
        locked,
        actor=actor,
        request=request,
        subject_id=locked.subject_id,
        scope=locked.scope,
    )
    return locked


@transaction.atomic
def withdraw_counter_example(
    counter: CounterExample, *, actor: User | None, request: HttpRequest | None = None, why: str = "undone"
) -> None:
    """Take one counter-example back (a curator's undo, or its expiry); deleting it bumps the gallery."""
    record(
        "counter_example.withdrawn",
        counter,
        actor=actor,
        actor_label="" if actor else "retention",
        request=request,
        subject_id=counter.subject_id,
        source_alert_id=counter.source_alert_id,
        why=why,
    )
    counter.delete()


def expire_counter_examples(now: datetime) -> int:
    """Counter-examples go with the dismissed alert's retention (their probe is that alert's face)."""
    expired = list(CounterExample.objects.filter(expires_at__lt=now))
    for counter in expired:
        withdraw_counter_example(counter, actor=None, why="expired")
    return len(expired)


@transaction.atomic
def withdraw_counter_examples(source_alert_id: int, *, actor: User | None, request: HttpRequest | None = None) -> int:
    """Take back the counter-examples a "not this person" on this alert made (its reviewer undid it);
    how many were withdrawn. Deleting them bumps the gallery (enrollment/signals.py)."""
    withdrawn = 0
    for counter in CounterExample.objects.filter(source_alert_id=source_alert_id):
        record(
            "counter_example.withdrawn",
            counter,
            actor=actor,
            request=request,
            subject_id=counter.subject_id,
            source_alert_id=source_alert_id,
        )
        counter.delete()
        withdrawn += 1
    return withdrawn


@transaction.atomic
def start_import(
    watchlist: Watchlist,
    csv_data: bytes,
    zip_data: bytes,
    *,
    create_missing_watchlists: bool = False,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> ImportJob:
    """Check a CSV of subjects and a zip of photos, store them and queue their import (enrollment/importer.py).

    Raises ValidationError, by field (csv_file, zip_file), with every reason to refuse them:
    nothing is stored then.
    """
    refused = archive.check_files(csv_data, zip_data)
    if refused:
        raise ValidationError(
            {field: [render(p["code"], p["params"]) for p in problems] for field, problems in refused.items()}
        )
    job = ImportJob(watchlist=watchlist, created_by=actor, create_missing_watchlists=create_missing_watchlists)
    job.csv_file.save(f"{uuid.uuid4().hex}.csv", ContentFile(csv_data), save=False)
    job.zip_file.save(f"{uuid.uuid4().hex}.zip", ContentFile(zip_data), save=False)
    job.save()
    record(
        "import.started",
        job,
        actor=actor,
        request=request,
        watchlist=watchlist.name,
        create_missing_watchlists=create_missing_watchlists,
    )
    jobs.enqueue("enrollment.import_subjects", job.pk)
    return job


# Twice the import task's hard time limit (enrollment/tasks.py IMPORT_TIME_LIMIT, 900 s), plus room
# for a queue: an import queued or running this long has lost its worker and never will finish.
IMPORT_STALLED_AFTER = timedelta(hours=1)


def fail_stalled_imports(now: datetime) -> int:
    """End as failed every import whose worker died: it would show "Importing" for ever and keep its files."""
    stalled = ImportJob.objects.filter(
        status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING], created_at__lt=now - IMPORT_STALLED_AFTER
    )
    failed = 0
    for job in stalled:
        with transaction.atomic():
            claimed = ImportJob.objects.filter(pk=job.pk, status=job.status).update(
                status=ImportJob.Status.FAILED, finished_at=now, problems=[*job.problems, problem("import.stalled")]
            )
            if claimed:
                record("import.stalled", job, actor_label="retention", was=job.status)
                failed += 1
    return failed
