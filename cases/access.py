"""Which cases a user may see: police of the alert's jurisdiction, and auditors (read-only)."""

from django.db.models import QuerySet

from accounts.models import Role, User
from alerts.access import alerts_visible_to
from cases.models import Case


def cases_visible_to(user: User) -> QuerySet[Case]:
    cases = Case.objects.select_related("alert__subject", "alert__watchlist", "alert__branch", "alert__bank")
    if not user.is_authenticated or user.role not in (Role.POLICE, Role.AUDITOR):
        return cases.none()
    return cases.filter(alert__in=alerts_visible_to(user))
