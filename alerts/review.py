"""Review of an alert: one function per transition, each writing the row, the audit entry and the live event.

    new ─▶ in_review ─▶ confirmed ─▶ escalated ─▶ case_opened ─▶ closed
      └────────┴──────────┴─▶ dismissed (not this person | image too poor | duplicate | other)

A covered-face event (no one identified) has its own actions on the same states: "asked to
uncover" and "security called" confirm it (the response is kept and audited; both may follow
each other), "false alarm" dismisses it and counts against its camera; once confirmed it can be
escalated to the police like a match, which is the only way the police ever see one.

Every transition is one conditional UPDATE on (id, version, allowed statuses): of two
reviewers acting on the same version, exactly one wins and the other gets a Conflict
that says what happened, never a silent overwrite. Case transitions live in cases.actions
and go through `transition` too.
"""

from typing import Any

import numpy as np
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from alerts.access import alerts_visible_to, can_review
from alerts.feed import emit
from alerts.models import Alert
from audit.log import record

Status = Alert.Status


class ReviewError(Exception):
    """A transition that cannot happen; `status` is the HTTP status to answer with."""

    status = 400


class NotAllowed(ReviewError):
    status = 403


class Conflict(ReviewError):
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
            raise Conflict(
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
        raise NotAllowed(_("You may not review this alert."))
    changes: dict[str, Any] = {"reviewed_by": user}
    if note:
        changes["note"] = note
    detail: dict[str, Any] = {"note": note} if note else {}
    if action in Alert.Response.values:
        changes["response"] = action
    if action == "false_alarm":
        changes["dismiss_reason"] = Alert.DismissReason.FALSE_ALARM
    if action == "dismiss":
        if reason not in MATCH_DISMISS_REASONS:
            raise ReviewError(_("Say why the alert is dismissed: not this person, image too poor, duplicate or other."))
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
    return alert


def remember_not_this_person(alert: Alert, user: User) -> bool:
    """Keep the probe's embedding as a counter-example, so the same innocent face does not raise this alert again."""
    from enrollment.services import add_counter_example  # enrollment imports nothing of alerts; keep it that way

    raw = getattr(alert, "probe_embedding", None)
    if alert.subject is None:
        return False  # a covered-face event names no one: there is no subject to exclude
    if not raw:
        record("alert.counter_example_missing", alert, actor=user, why="the alert has no probe embedding")
        return False
    embedding = np.frombuffer(bytes(raw), dtype=np.float32)
    add_counter_example(alert.subject, embedding, created_by=user, source_alert_id=alert.pk)
    return True
