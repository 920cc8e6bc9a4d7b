"""Which alerts a user may see and act on. Every page, endpoint, socket replay and media file asks here."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Exists, Q, QuerySet

from accounts.models import Role, User
from alerts.models import Alert, AlertEvent
from enrollment.models import Watchlist


def _in_bank_scope(rows: QuerySet[Any], user: User) -> QuerySet[Any]:
    """Rows (alerts or feed events) of a bank security user's bank, or only of their branches when they have any."""
    rows = rows.filter(bank_id=user.bank_id)
    branch_ids = list(user.branches.values_list("id", flat=True))
    return rows.filter(branch_id__in=branch_ids) if branch_ids else rows


def alerts_visible_to(user: User) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related("subject", "watchlist", "camera", "branch", "bank")
    if not user.is_authenticated or not user.is_active:
        return alerts.none()
    if user.role == Role.BANK_SECURITY and user.bank_id:
        return _in_bank_scope(alerts, user)
    if user.role == Role.POLICE and user.jurisdiction:
        return alerts.filter(bank__jurisdiction__iexact=user.jurisdiction.strip(), status__in=Alert.POLICE_STATUSES)
    if user.role == Role.AUDITOR:
        return alerts  # read-only pages only; every view of theirs is audited
    return alerts.none()


def watchlists_visible_to(user: User) -> QuerySet[Watchlist]:
    """Active watchlists whose scope (banks, branches; empty: all) reaches the user's: the
    dashboard's filter names no other bank's watchlist."""
    if not user.is_authenticated or not user.is_active:
        return Watchlist.objects.none()
    if user.role == Role.AUDITOR:
        return Watchlist.objects.all()
    if user.role == Role.BANK_SECURITY and user.bank_id:
        # In one query: the user's own branches, or any branch of the bank when they have none.
        own = User.branches.through.objects.filter(user_id=user.pk)
        banks = Q(banks__isnull=True) | Q(banks=user.bank_id)
        branches = Q(branches__in=own.values("branch_id")) | (Q(branches__bank_id=user.bank_id) & Q(~Exists(own)))
    elif user.role == Role.POLICE and user.jurisdiction:
        jurisdiction = user.jurisdiction.strip()
        banks = Q(banks__isnull=True) | Q(banks__jurisdiction__iexact=jurisdiction)
        branches = Q(branches__bank__jurisdiction__iexact=jurisdiction)
    else:
        return Watchlist.objects.none()
    return Watchlist.objects.filter(Q(is_active=True) & banks & (Q(branches__isnull=True) | branches)).distinct()


def filter_alerts(alerts: QuerySet[Alert], statuses: Iterable[str], ids: Mapping[str, Any]) -> QuerySet[Alert]:
    """Narrow alerts to the given statuses and to the numeric branch, watchlist, bank or subject ids
    given (others are ignored), oldest first. The dashboard and the API both filter through here."""
    chosen = [s for s in statuses if s in Alert.Status.values]
    if chosen:
        alerts = alerts.filter(status__in=chosen)
    for name in ("branch", "watchlist", "bank", "subject"):
        value = str(ids.get(name) or "")
        if value.isdigit():
            alerts = alerts.filter(**{f"{name}_id": int(value)})
    return alerts.order_by("created_at", "id")


def events_visible_to(user: User) -> QuerySet[AlertEvent]:
    """The feed log a reconnecting socket may replay: the same scope as its live groups (accounts.scope)."""
    events = AlertEvent.objects.all()
    if not user.is_authenticated or not user.is_active:
        return events.none()
    if user.role == Role.BANK_SECURITY and user.bank_id:
        return _in_bank_scope(events, user)
    if user.role == Role.POLICE and user.jurisdiction:
        return events.filter(for_police=True, bank__jurisdiction__iexact=user.jurisdiction.strip())
    return events.none()


def open_statuses_for(user: User) -> tuple[str, ...]:
    return Alert.OPEN_FOR_POLICE if user.role == Role.POLICE else Alert.OPEN_FOR_BANK


def can_review(user: User) -> bool:
    """Bank security decide on their alerts; police act on escalations; auditors and curators only look."""
    return user.is_authenticated and user.is_active and user.role == Role.BANK_SECURITY


def can_run_cases(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.role == Role.POLICE
