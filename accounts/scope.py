"""Who may see what: the live-event groups and querysets of each role's scope."""

import hashlib

from accounts.models import Role, User


def bank_group(bank_id: int) -> str:
    return f"bank-{bank_id}"


def branch_group(branch_id: int) -> str:
    return f"branch-{branch_id}"


def police_group(jurisdiction: str) -> str:
    # Group names allow only ASCII letters, digits, hyphens and dots.
    return "police-" + hashlib.sha256(jurisdiction.strip().lower().encode()).hexdigest()[:16]


def feed_groups(user: User) -> list[str]:
    """The channel-layer groups whose alert events this user may receive."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.role == Role.BANK_SECURITY and user.bank_id:
        branch_ids = list(user.branches.values_list("id", flat=True))
        if branch_ids:
            return [branch_group(branch_id) for branch_id in branch_ids]
        return [bank_group(user.bank_id)]
    if user.role == Role.POLICE and user.jurisdiction:
        return [police_group(user.jurisdiction)]
    return []
