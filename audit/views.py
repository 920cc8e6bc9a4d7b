"""The read-only audit log page for auditors: who saw and did what, when and from where."""

from datetime import date, datetime, time
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit.models import AuditEntry
from audit.words import ACTIONS

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
    params = {k: v for k, v in params.items() if k not in ("before", "after")}
    rows, newer, older = keyset_page(
        filter_entries(params), _id(request.GET.get("before")), _id(request.GET.get("after"))
    )
    query = urlencode({k: v for k, v in params.items() if v})
    context = {"page": rows, "newer": newer, "older": older, "params": params, "actions": _actions(), "query": query}
    return render(request, "audit/log.html", context)


def _actions() -> list[str]:
    """The filter's choices: every action the catalogue names and any other among the latest entries
    (a DISTINCT over the whole log would read millions of rows)."""
    recent = AuditEntry.objects.order_by("-pk").values_list("action", flat=True)[:5000]
    return sorted(set(ACTIONS) | set(recent))


def _id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def keyset_page(
    entries: QuerySet[AuditEntry], before: int | None, after: int | None
) -> tuple[list[AuditEntry], int | None, int | None]:
    """One page of the log, newest first, found from the id it starts after (`before`: older
    entries, `after`: newer ones) instead of an OFFSET, and with no COUNT of a log that grows
    by millions a year; returns the rows and the ids the "newer" and "older" links start from."""
    if after is not None:
        rows = list(entries.filter(pk__gt=after).order_by("pk")[: PAGE_SIZE + 1])
        has_newer = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE][::-1]
        has_older = bool(rows) and entries.filter(pk__lt=rows[-1].pk).exists()
    else:
        older_than = entries.filter(pk__lt=before) if before is not None else entries
        rows = list(older_than.order_by("-pk")[: PAGE_SIZE + 1])
        has_older = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        has_newer = before is not None and bool(rows) and entries.filter(pk__gt=rows[0].pk).exists()
    return rows, rows[0].pk if has_newer else None, rows[-1].pk if has_older else None
