"""Which alerts a user may see. Every page, endpoint, socket replay and media file asks here."""

from django.db.models import QuerySet

from accounts.models import Role, User
from alerts.feed import POLICE_STATUSES
from alerts.models import Alert


def alerts_visible_to(user: User) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related("subject", "watchlist", "camera", "branch", "bank")
    if not user.is_authenticated or not user.is_active:
        return alerts.none()
    if user.role == Role.BANK_SECURITY and user.bank_id:
        alerts = alerts.filter(bank_id=user.bank_id)
        branch_ids = list(user.branches.values_list("id", flat=True))
        return alerts.filter(branch_id__in=branch_ids) if branch_ids else alerts
    if user.role == Role.POLICE and user.jurisdiction:
        return alerts.filter(bank__jurisdiction=user.jurisdiction, status__in=POLICE_STATUSES)
    if user.role == Role.AUDITOR:
        return alerts  # read-only pages only; every view of theirs is audited
    return alerts.none()
