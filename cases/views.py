"""The police liaison's pages: the inbox of escalations, a case with its notes, and the evidence export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts.models import User
from alerts.access import alerts_visible_to, can_run_cases
from alerts.actions import ReviewError
from alerts.feed import for_listing
from alerts.history import alert_history
from alerts.models import Alert
from audit.log import record
from cases.access import cases_visible_to
from cases.actions import add_case_note, close_case, open_case, release_hold
from cases.export import export_response
from enrollment.models import ReferencePhoto


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _version(request: HttpRequest) -> int:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else -1


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not (can_run_cases(user) or user.is_auditor):
        raise PermissionDenied
    escalations = for_listing(alerts_visible_to(user).filter(status=Alert.Status.ESCALATED)).order_by("updated_at")
    cases = cases_visible_to(user).select_related("alert__subject", "alert__bank", "alert__branch")
    return render(
        request,
        "cases/inbox.html",
        {
            "escalations": list(escalations.select_related("reviewed_by")),
            "cases": cases.order_by("status", "-opened_at")[:200],
            "can_act": can_run_cases(user),
        },
    )


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(cases_visible_to(_user(request)), pk=case_id)
    record("case.viewed", case, request=request)
    return render(
        request,
        "cases/case.html",
        {
            "case": case,
            "alert": case.alert,
            "best": case.alert.best_sighting(),
            "history": alert_history(case.alert),
            "references": ReferencePhoto.objects.filter(subject=case.alert.subject, status="accepted").order_by("pk")[
                :6
            ],
            "notes": case.notes.select_related("author"),
            "can_act": can_run_cases(_user(request)),
            "holds": case.holds.filter(released_at__isnull=True),
        },
    )


@require_POST
@login_required
def case_open(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(alerts_visible_to(_user(request)), pk=alert_id)
    try:
        case = open_case(
            alert, _user(request), version=_version(request), note=request.POST.get("note", ""), request=request
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
        return redirect("alert-detail", alert.pk)
    return redirect("case-detail", case.pk)


@require_POST
@login_required
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(cases_visible_to(_user(request)), pk=case_id)
    try:
        add_case_note(case, _user(request), request.POST.get("text", ""), request=request)
    except ReviewError as exc:
        messages.error(request, str(exc))
    return redirect("case-detail", case.pk)


@require_POST
@login_required
def case_close(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(cases_visible_to(_user(request)), pk=case_id)
    try:
        close_case(case, _user(request), request.POST.get("outcome", ""), version=_version(request), request=request)
    except ReviewError as exc:
        messages.error(request, str(exc))
    return redirect("case-detail", case.pk)


@login_required
def case_export(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(cases_visible_to(_user(request)), pk=case_id)
    return export_response(case, _user(request), request)


@require_POST
@login_required
def case_release_hold(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case's police liaison ends its legal hold: retention then treats the evidence like any other."""
    case = get_object_or_404(cases_visible_to(_user(request)), pk=case_id)
    hold = case.holds.filter(released_at__isnull=True).first()
    if hold is None:
        messages.error(request, gettext("This case holds nothing."))
        return redirect("case-detail", case.pk)
    try:
        release_hold(hold, _user(request), request.POST.get("reason", ""), request=request)
    except ReviewError as exc:
        messages.error(request, str(exc))
    return redirect("case-detail", case.pk)
