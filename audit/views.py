"""The read-only audit log page for auditors: who saw and did what, when and from where."""

from datetime import date, datetime, time
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit.models import AuditEntry

PAGE_SIZE = 100


def _day(value: str, end: bool) -> datetime | None:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


def filter_entries(params: dict[str, str]) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("actor")
    if params.get("actor"):
        entries = entries.filter(actor_label__icontains=params["actor"].strip())
    if params.get("action"):
        entries = entries.filter(action__startswith=params["action"].strip())
    if params.get("object_type"):
        entries = entries.filter(object_type=params["object_type"].strip())
    if params.get("object_id"):
        entries = entries.filter(object_id=params["object_id"].strip())
    if params.get("ip"):
        entries = entries.filter(ip=params["ip"].strip())
    since, until = _day(params.get("since", ""), end=False), _day(params.get("until", ""), end=True)
    if since:
        entries = entries.filter(at__gte=since)
    if until:
        entries = entries.filter(at__lte=until)
    return entries


@require_GET
@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (getattr(user, "is_auditor", False) or user.is_superuser):
        raise PermissionDenied
    params: dict[str, str] = {k: str(v) for k, v in request.GET.items() if k != "page"}
    page = Paginator(filter_entries(params), PAGE_SIZE).get_page(request.GET.get("page"))
    actions = AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()
    query = urlencode({k: v for k, v in params.items() if v})
    return render(request, "audit/log.html", {"page": page, "params": params, "actions": actions, "query": query})
