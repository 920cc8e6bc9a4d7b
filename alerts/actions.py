"""Every state change of an alert, each in one function that writes the row, the audit entry
and the live feed event together, inside one transaction. The pipeline, the pages, the API,
cases.actions and the factories of the tests all call these.

Recognition: `raise_alert` (from one or more agreeing observations), `add_sighting`, and the
same two for covered-face events (a face at the door hidden by a mask, helmet, sunglasses or
hood, or not visible at all), which name no one: no subject, no watchlist, no score.
Audit entries name the subject, camera, frame and score, never face data.

Review: one function per transition.

    new ─▶ in_review ─▶ confirmed ─▶ escalated ─▶ case_opened ─▶ closed
      └────────┴──────────┴─▶ dismissed (not this person | image too poor | duplicate | other)

A covered-face event (no one identified) has its own actions on the same states: "asked to
uncover" and "security called" confirm it (the response is kept and audited; both may follow
each other), "false alarm" dismisses it and counts against its camera; once confirmed it can be
escalated to the police like a match, which is the only way the police ever see one.

A match's dismissal can be undone by the reviewer who made it within BANKWATCH_UNDO_DISMISS_SECONDS
(`undo_dismissal`): the alert goes back to where it was and a "not this person" counter-example
made from it is withdrawn.

Someone always hears it: `flag_unacknowledged` moves an alert still new past its watchlist's
acknowledgement deadline one stage on (announced again and mailed to the branch; then escalated
to the bank's security managers), and escalating to the police mails the police liaisons
(alerts/mail.py; alerts/acknowledgement.py finds the alerts due).

Every transition is one conditional UPDATE on (id, version, allowed statuses): of two
reviewers acting on the same version, exactly one wins and the other gets a ConflictError
that says what happened, never a silent overwrite. Case transitions live in cases.actions
and go through `transition` too.
"""

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from alerts.access import alerts_visible_to, can_review
from alerts.feed import emit
from alerts.models import Alert, Observation, Sighting
from audit.log import record
from bankwatch.jobs import enqueue
from enrollment.models import Subject, Watchlist


def _files(obs: Observation, kind: str) -> dict[str, Any]:
    name = f"c{obs.camera.pk}-f{obs.frame_id}-{kind}.jpg"
    return {
        "crop": ContentFile(obs.face_crop, name=name) if obs.face_crop else None,
        "frame": ContentFile(obs.frame_image, name=name) if obs.frame_image else None,
    }


def _sighting(alert: Alert, obs: Observation) -> Sighting:
    files = _files(obs, "sighting")
    sighting = Sighting(
        alert=alert,
        camera=obs.camera,
        frame_id=obs.frame_id,
        seen_at=obs.seen_at,
        score=obs.score,
        box=obs.box,
        covering=obs.covering,
    )
    if files["crop"]:
        sighting.face_crop.save(files["crop"].name, files["crop"], save=False)
    if files["frame"]:
        sighting.frame_image.save(files["frame"].name, files["frame"], save=False)
    sighting.save()
    return sighting


def _save_with_sightings(alert: Alert, best: Observation, observations: list[Observation]) -> None:
    files = _files(best, "probe")
    if files["crop"]:
        alert.probe_crop.save(files["crop"].name, files["crop"], save=False)
    if files["frame"]:
        alert.evidence_frame.save(files["frame"].name, files["frame"], save=False)
    alert.save()
    for obs in sorted(observations, key=lambda o: o.seen_at):
        _sighting(alert, obs)


@transaction.atomic
def raise_alert(subject: Subject, watchlist: Watchlist, observations: list[Observation]) -> Alert:
    """A new alert from one or more agreeing observations; the best one becomes its probe.

    Every observation becomes a sighting, so the reviewer sees all the evidence that agreed.
    """
    if not observations:
        raise ValueError("an alert needs at least one observation")
    best = max(observations, key=lambda o: o.score)
    camera = best.camera
    alert = Alert(
        subject=subject,
        watchlist=watchlist,
        camera=camera,
        branch_id=camera.branch_id,
        bank_id=camera.branch.bank_id,
        score=best.score,
        threshold=best.threshold,
        box=best.box,
        last_seen_at=max(o.seen_at for o in observations),
        probe_embedding=np.asarray(best.embedding, np.float32).tobytes() if best.embedding is not None else None,
        covering=best.covering,
    )
    _save_with_sightings(alert, best, observations)
    record(
        "alert.raised",
        alert,
        subject_id=subject.pk,
        watchlist_id=watchlist.pk,
        camera_id=camera.pk,
        frame_ids=[o.frame_id for o in observations],
        score=round(best.score, 4),
        threshold=round(best.threshold, 4),
    )
    emit(alert, "alert.created")
    return alert


@transaction.atomic
def raise_covered_event(observations: list[Observation]) -> Alert:
    """A covered-face event from agreeing observations of one person at one camera: the most
    confident becomes its probe, every one a sighting. Its covering gathers every label seen,
    each with the highest confidence any observation gave it. It names no one."""
    if not observations:
        raise ValueError("a covered-face event needs at least one observation")
    best = max(observations, key=lambda o: o.score)
    camera = best.camera
    alert = Alert(
        kind=Alert.Kind.COVERED,
        camera=camera,
        branch_id=camera.branch_id,
        bank_id=camera.branch.bank_id,
        box=best.box,
        last_seen_at=max(o.seen_at for o in observations),
        # Kept to tell this person from the next one during the cool-down; retention removes it.
        probe_embedding=np.asarray(best.embedding, np.float32).tobytes() if best.embedding is not None else None,
        covering=merge_coverings([o.covering for o in observations]),
    )
    _save_with_sightings(alert, best, observations)
    record(
        "covered.raised",
        alert,
        camera_id=camera.pk,
        frame_ids=[o.frame_id for o in observations],
        labels=alert.covering_labels,
    )
    emit(alert, "alert.created")
    return alert


def merge_coverings(coverings: list[dict[str, Any]]) -> dict[str, Any]:
    """Every label any observation saw, most confident first, each with its highest confidence."""
    scores: dict[str, float] = {}
    labels: set[str] = set()
    for covering in coverings:
        labels.update(covering.get("labels", []))
        for label, value in covering.get("scores", {}).items():
            scores[label] = max(scores.get(label, 0.0), float(value))
    ordered = sorted(labels, key=lambda label: (-scores.get(label, 0.0), label))
    return {"labels": ordered, "scores": {label: round(value, 4) for label, value in scores.items()}}


@transaction.atomic
def add_sighting(alert: Alert, obs: Observation) -> Sighting | None:
    """Record that an alert's subject (or a covered-face event's person) was seen again. None when
    this frame is already on the alert (a re-run job adds nothing). Does not change the review
    version: a sighting is not a review."""
    if Sighting.objects.filter(alert=alert, frame_id=obs.frame_id).exists():
        return None
    sighting = _sighting(alert, obs)
    # Column updates, not save(): a reviewer may be changing the same row's status at this moment.
    changes: dict[str, Any] = {"last_seen_at": Greatest(F("last_seen_at"), obs.seen_at)}
    if alert.is_covered_event:
        changes["covering"] = merge_coverings([alert.covering, obs.covering])
    else:
        changes["score"] = Greatest(F("score"), obs.score)
    Alert.objects.filter(pk=alert.pk).update(**changes)
    alert.refresh_from_db(fields=["last_seen_at", "score", "covering", "status", "version", "updated_at"])
    record(
        "covered.sighting_added" if alert.is_covered_event else "alert.sighting_added",
        alert,
        sighting_id=sighting.pk,
        camera_id=obs.camera.pk,
        frame_id=obs.frame_id,
        **({"labels": obs.covering.get("labels", [])} if alert.is_covered_event else {"score": round(obs.score, 4)}),
    )
    emit(alert, "alert.updated")
    return sighting


# --- Review ---------------------------------------------------------------

Status = Alert.Status


class ReviewError(Exception):
    """A transition that cannot happen; `status` is the HTTP status to answer with."""

    status = 400


class NotAllowedError(ReviewError):
    status = 403


class ConflictError(ReviewError):
    status = 409


# action -> (statuses it may start from, status it leads to)
REVIEW_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start_review": ((Status.NEW,), Status.IN_REVIEW),
    "confirm": ((Status.NEW, Status.IN_REVIEW), Status.CONFIRMED),
    "dismiss": ((Status.NEW, Status.IN_REVIEW, Status.CONFIRMED), Status.DISMISSED),
    "escalate": ((Status.CONFIRMED,), Status.ESCALATED),
}
COVERED_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start_review": ((Status.NEW,), Status.IN_REVIEW),
    "asked_to_uncover": ((Status.NEW, Status.IN_REVIEW, Status.CONFIRMED), Status.CONFIRMED),
    "security_called": ((Status.NEW, Status.IN_REVIEW, Status.CONFIRMED), Status.CONFIRMED),
    "false_alarm": ((Status.NEW, Status.IN_REVIEW, Status.CONFIRMED), Status.DISMISSED),
    "escalate": ((Status.CONFIRMED,), Status.ESCALATED),
}
ALL_ACTIONS = [*REVIEW_ACTIONS, *(a for a in COVERED_ACTIONS if a not in REVIEW_ACTIONS)]
MATCH_DISMISS_REASONS = [r for r in Alert.DismissReason if r != Alert.DismissReason.FALSE_ALARM]


def actions_for(alert: Alert) -> dict[str, tuple[tuple[str, ...], str]]:
    return COVERED_ACTIONS if alert.is_covered_event else REVIEW_ACTIONS


def transition(
    alert: Alert,
    user: User,
    action: str,
    *,
    allowed_from: tuple[str, ...],
    to_status: str,
    version: int,
    request: HttpRequest | None = None,
    changes: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> Alert:
    """Move one alert to `to_status` if it is still at `version` and in `allowed_from`. Call inside a transaction."""
    changes = dict(changes or {})
    claimed = Alert.objects.filter(pk=alert.pk, version=version, status__in=allowed_from).update(
        status=to_status, version=version + 1, updated_at=timezone.now(), **changes
    )
    if claimed != 1:
        current = Alert.objects.select_related("reviewed_by").get(pk=alert.pk)
        if current.version != version:
            raise ConflictError(
                _(
                    "Alert #%(id)s was changed by someone else while you had it open: it is now “%(status)s”"
                    " (by %(who)s). Nothing was changed; look at its current state and decide again."
                )
                % {
                    "id": current.pk,
                    "status": current.get_status_display(),
                    "who": current.reviewed_by.get_username() if current.reviewed_by else _("the system"),
                }
            )
        raise ReviewError(
            _("An alert that is “%(status)s” cannot be moved that way.") % {"status": current.get_status_display()}
        )
    from_status = alert.status
    alert.refresh_from_db()
    record(
        f"alert.{action}",
        alert,
        actor=user,
        request=request,
        from_status=from_status,
        to_status=to_status,
        **(detail or {}),
    )
    emit(alert, "alert.updated")
    return alert


UNREVIEWED_FROM = (Alert.Status.NEW, Alert.Status.IN_REVIEW)


@transaction.atomic
def close_unreviewed(alert: Alert) -> bool:
    """Retention's move: an alert nobody decided on within BANKWATCH_RETENTION_OPEN_ALERT_DAYS is
    dismissed as unreviewed (row, audit entry, feed event); False when someone moved it meanwhile."""
    claimed = Alert.objects.filter(pk=alert.pk, version=alert.version, status__in=UNREVIEWED_FROM).update(
        status=Alert.Status.DISMISSED,
        dismiss_reason=Alert.DismissReason.UNREVIEWED,
        version=alert.version + 1,
        updated_at=timezone.now(),
    )
    if claimed != 1:
        return False
    from_status = alert.status
    alert.refresh_from_db()
    record("alert.closed_unreviewed", alert, actor_label="retention", from_status=from_status, to_status=alert.status)
    emit(alert, "alert.updated")
    return True


def _check_escalation(alert: Alert) -> None:
    """An alert goes to the police only once confirmed, and only from a bank with a jurisdiction (never guessed)."""
    if not alert.bank.jurisdiction.strip():
        raise ReviewError(
            _(
                "%(bank)s has no police jurisdiction yet, so no police liaison would receive this escalation: "
                "ask an administrator to set the bank's jurisdiction, then escalate again."
            )
            % {"bank": alert.bank.name}
        )
    if alert.status in (Status.NEW, Status.IN_REVIEW):
        raise ReviewError(_("Confirm the alert first: only a confirmed alert can be escalated to the police."))


def review_alert(
    alert: Alert,
    user: User,
    action: str,
    reason: str = "",
    note: str = "",
    *,
    version: int,
    request: HttpRequest | None = None,
) -> Alert:
    """Bank security's decision on an alert: start_review, confirm, dismiss (with a reason) or escalate;
    on a covered-face event: start_review, asked_to_uncover, security_called, false_alarm or escalate."""
    actions = actions_for(alert)
    if action not in actions:
        raise ReviewError(_("Unknown action “%(action)s”.") % {"action": action})
    if not can_review(user) or not alerts_visible_to(user).filter(pk=alert.pk).exists():
        raise NotAllowedError(_("You may not review this alert."))
    changes: dict[str, Any] = {"reviewed_by": user}
    if note:
        changes["note"] = note
    detail: dict[str, Any] = {"note": note} if note else {}
    if action in Alert.Response.values:
        changes["response"] = action
    if action == "false_alarm":
        changes["dismiss_reason"] = Alert.DismissReason.FALSE_ALARM
    if action == "escalate":
        _check_escalation(alert)
    if action == "dismiss":
        if reason not in MATCH_DISMISS_REASONS:
            raise ReviewError(_("Say why the alert is dismissed: not this person, image too poor, duplicate or other."))
        if reason == Alert.DismissReason.OTHER and not note:
            raise ReviewError(_("Dismissing for another reason needs a note that says what it is."))
        changes["dismiss_reason"] = reason
        detail["reason"] = reason
    allowed_from, to_status = actions[action]
    with transaction.atomic():
        alert = transition(
            alert,
            user,
            action,
            allowed_from=allowed_from,
            to_status=to_status,
            version=version,
            request=request,
            changes=changes,
            detail=detail,
        )
        if action == "dismiss" and reason == Alert.DismissReason.NOT_THIS_PERSON:
            remember_not_this_person(alert, user)
        if action == "escalate":
            enqueue("alerts.send_alert_mail", "escalated", alert.pk)  # the police liaisons, after the commit
    return alert


UNACKNOWLEDGED_STAGES = {1: "unacknowledged", 2: "unacknowledged_escalated"}


@transaction.atomic
def flag_unacknowledged(alert: Alert, stage: int) -> bool:
    """Move a still-new alert to `stage` (1: announced again on the dashboard and mailed to the branch's
    security staff; 2: escalated to the bank's security managers): row, audit entry, feed event and
    the mail's job together; False when it was taken into review or flagged meanwhile."""
    claimed = Alert.objects.filter(pk=alert.pk, status=Alert.Status.NEW, unacknowledged_stage__lt=stage).update(
        unacknowledged_stage=stage
    )
    if claimed != 1:
        return False
    alert.refresh_from_db()
    kind = UNACKNOWLEDGED_STAGES[stage]
    waited = int((timezone.now() - alert.created_at).total_seconds())
    record(f"alert.{kind}", alert, actor_label="system", waited_seconds=waited)
    emit(alert, "alert.unacknowledged")
    enqueue("alerts.send_alert_mail", kind, alert.pk)
    return True


def undo_deadline(alert: Alert, user: User) -> datetime | None:
    """Until when `user` may undo their dismissal of this match; None when they may not (any more)."""
    if alert.is_covered_event or alert.status != Status.DISMISSED or alert.reviewed_by_id != user.pk:
        return None
    if alert.dismiss_reason not in MATCH_DISMISS_REASONS:
        return None
    dismissal = _last_dismissal(alert)
    if dismissal is None or dismissal.actor_id != user.pk:
        return None
    deadline = dismissal.at + timedelta(seconds=settings.UNDO_DISMISS_SECONDS)
    return deadline if deadline > timezone.now() else None


def _last_dismissal(alert: Alert) -> Any:
    from audit.models import AuditEntry

    return (
        AuditEntry.objects.filter(object_type="alerts.alert", object_id=str(alert.pk), action="alert.dismiss")
        .order_by("-id")
        .first()
    )


@transaction.atomic
def undo_dismissal(alert: Alert, user: User, *, version: int, request: HttpRequest | None = None) -> Alert:
    """The reviewer takes back their own dismissal within BANKWATCH_UNDO_DISMISS_SECONDS: the alert
    returns to the status it was dismissed from, and a counter-example it taught the gallery is withdrawn."""
    if not can_review(user) or not alerts_visible_to(user).filter(pk=alert.pk).exists():
        raise NotAllowedError(_("You may not review this alert."))
    if undo_deadline(alert, user) is None:
        raise ReviewError(_("Only the reviewer who dismissed this alert can undo it, and only within a minute."))
    dismissal = _last_dismissal(alert)
    reason = alert.dismiss_reason
    alert = transition(
        alert,
        user,
        "undo_dismissal",
        allowed_from=(Status.DISMISSED,),
        to_status=dismissal.detail["from_status"],
        version=version,
        request=request,
        changes={"dismiss_reason": "", "reviewed_by": user},
        detail={"reason": reason},
    )
    if reason == Alert.DismissReason.NOT_THIS_PERSON:
        from enrollment.actions import withdraw_counter_examples  # enrollment imports nothing of alerts

        withdraw_counter_examples(alert.pk, actor=user, request=request)
    return alert


def remember_not_this_person(alert: Alert, user: User) -> bool:
    """Keep the probe's embedding as a counter-example, so the same innocent face does not raise this alert again."""
    from enrollment.actions import add_counter_example  # enrollment imports nothing of alerts; keep it that way

    raw = getattr(alert, "probe_embedding", None)
    if alert.subject is None:
        return False  # a covered-face event names no one: there is no subject to exclude
    if not raw:
        record("alert.counter_example_missing", alert, actor=user, why="the alert has no probe embedding")
        return False
    embedding = np.frombuffer(bytes(raw), dtype=np.float32)
    # It applies at once only where the reviewer works: their branch (branch staff) or their bank.
    # Everywhere needs a curator's approval (enrollment.actions.approve_counter_example).
    branch_staff = user.branches.exists()
    add_counter_example(
        alert.subject,
        embedding,
        created_by=user,
        source_alert_id=alert.pk,
        bank=None if branch_staff else alert.bank,
        branch=alert.branch if branch_staff else None,
    )
    return True
