"""Police case transitions. Each writes the row, the audit entry and the live event together."""

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from alerts.access import alerts_visible_to, can_run_cases
from alerts.actions import NotAllowedError, ReviewError, transition
from alerts.models import Alert
from audit.log import record
from bankwatch.jobs import enqueue
from cases.models import Case, CaseNote, LegalHold


def _check_police(user: User, alert: Alert) -> None:
    if not can_run_cases(user) or not alerts_visible_to(user).filter(pk=alert.pk).exists():
        raise NotAllowedError(_("Only the police liaison of this jurisdiction may do that."))


def open_case(alert: Alert, user: User, *, version: int, note: str = "", request: HttpRequest | None = None) -> Case:
    """escalated → case opened: the police liaison takes an escalation on."""
    _check_police(user, alert)
    with transaction.atomic():
        transition(
            alert,
            user,
            "case_opened",
            allowed_from=(Alert.Status.ESCALATED,),
            to_status=Alert.Status.CASE_OPENED,
            version=version,
            request=request,
        )
        case = Case.objects.create(alert=alert, opened_by=user)
        record("case.opened", case, actor=user, request=request, alert_id=alert.pk)
        enqueue("integrations.announce_case", "case.opened", case.pk)  # webhooks, after commit
        # Under investigation: the alert, its sightings and their images are evidence from now on.
        hold = LegalHold.objects.create(case=case, alert=alert, placed_by=user, reason="case opened")
        record("hold.placed", hold, actor=user, request=request, case_id=case.pk, alert_id=alert.pk)
        if note:
            CaseNote.objects.create(case=case, author=user, text=note)
    return case


def add_case_note(case: Case, user: User, text: str, *, request: HttpRequest | None = None) -> CaseNote:
    _check_police(user, case.alert)
    text = text.strip()
    if not text:
        raise ReviewError(_("A note needs some text."))
    if case.status != Case.Status.OPEN:
        raise ReviewError(_("This case is closed; notes can no longer be added."))
    with transaction.atomic():
        note = CaseNote.objects.create(case=case, author=user, text=text)
        record("case.note_added", case, actor=user, request=request, note_id=note.pk)
    return note


def close_case(case: Case, user: User, outcome: str, *, version: int, request: HttpRequest | None = None) -> Case:
    """case opened → closed, with the outcome."""
    _check_police(user, case.alert)
    if not outcome.strip():
        raise ReviewError(_("Say how the case ended before closing it."))
    with transaction.atomic():
        transition(
            case.alert,
            user,
            "closed",
            allowed_from=(Alert.Status.CASE_OPENED,),
            to_status=Alert.Status.CLOSED,
            version=version,
            request=request,
        )
        Case.objects.filter(pk=case.pk).update(
            status=Case.Status.CLOSED, closed_by=user, closed_at=timezone.now(), outcome=outcome.strip()
        )
        case.refresh_from_db()
        record("case.closed", case, actor=user, request=request, outcome=case.outcome)
        enqueue("integrations.announce_case", "case.closed", case.pk)
    return case


def place_hold(alert: Alert, user: User, reason: str, *, request: HttpRequest | None = None) -> LegalHold:
    """A hold without a case: the data protection officer keeps an alert's evidence on the police's
    written request (an investigation not yet opened here). Opening a case places its own."""
    if not user.is_data_protection_officer:
        raise NotAllowedError(_("Only the data protection officer may place a hold."))
    if not reason.strip():
        raise ReviewError(_("Say why the evidence must be kept."))
    with transaction.atomic():
        hold = LegalHold.objects.create(alert=alert, placed_by=user, reason=reason.strip())
        record("hold.placed", hold, actor=user, request=request, case_id=None, alert_id=alert.pk, reason=hold.reason)
    return hold


def release_hold(hold: LegalHold, user: User, reason: str, *, request: HttpRequest | None = None) -> LegalHold:
    """End a legal hold (the data protection officer or the case's police liaison, with a reason):
    retention then treats the alert like any other. Only one release counts (conditional UPDATE)."""
    allowed = user.is_data_protection_officer or (
        can_run_cases(user) and alerts_visible_to(user).filter(pk=hold.alert_id).exists()
    )
    if not allowed:
        raise NotAllowedError(_("Only the data protection officer or the case's police liaison may release a hold."))
    if not reason.strip():
        raise ReviewError(_("Say why the hold is released."))
    with transaction.atomic():
        released = LegalHold.objects.filter(pk=hold.pk, released_at__isnull=True).update(
            released_at=timezone.now(), released_by=user, release_reason=reason.strip()
        )
        if not released:
            raise ReviewError(_("This hold was already released."))
        hold.refresh_from_db()
        record(
            "hold.released",
            hold,
            actor=user,
            request=request,
            case_id=hold.case_id,
            alert_id=hold.alert_id,
            reason=hold.release_reason,
        )
    return hold
