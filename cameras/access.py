"""Which cameras a user may see: a bank's security staff their bank's (or only their branches'), auditors all."""

from django.db.models import QuerySet

from accounts.models import Role, User
from cameras.models import Camera


def cameras_visible_to(user: User) -> QuerySet[Camera]:
    cameras = Camera.objects.select_related("branch__bank")
    if not user.is_authenticated or not user.is_active:
        return cameras.none()
    if user.role == Role.BANK_SECURITY and user.bank_id:
        cameras = cameras.filter(branch__bank_id=user.bank_id)
        branch_ids = list(user.branches.values_list("id", flat=True))
        return cameras.filter(branch_id__in=branch_ids) if branch_ids else cameras
    if user.role == Role.AUDITOR:
        return cameras  # read-only
    return cameras.none()
