from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Role, User
from organizations.actions import get_or_create_branch
from organizations.models import Bank


@transaction.atomic
def create_user(
    username: str,
    role: str,
    password: str,
    bank_name: str = "",
    branch_name: str = "",
    jurisdiction: str = "",
) -> User:
    """Create a user with a role and scope; a curator or a data protection officer is staff so the
    admin opens to them (each sees only their own pages there)."""
    if role not in Role.values:
        raise ValidationError(f"unknown role {role!r}; use one of {', '.join(Role.values)}")
    if role == Role.BANK_SECURITY and not bank_name:
        raise ValidationError("bank security staff need --bank")
    if branch_name and not bank_name:
        raise ValidationError("--branch needs --bank")
    if role == Role.POLICE and not jurisdiction.strip():
        # Never guessed: a liaison of the wrong jurisdiction would see another city's escalations.
        raise ValidationError(
            "a police user needs --jurisdiction, the police jurisdiction whose escalations they receive "
            '(for example --jurisdiction "Ho Chi Minh City")'
        )
    user = User(username=username, role=role, is_staff=role in (Role.CURATOR, Role.DATA_PROTECTION_OFFICER))
    user.set_password(password)
    if bank_name:
        user.bank, _ = Bank.objects.get_or_create(name=bank_name)
    if role == Role.POLICE:
        user.jurisdiction = jurisdiction.strip()
    user.full_clean(exclude=["password"])
    user.save()
    if branch_name:
        user.branches.add(get_or_create_branch(bank_name, branch_name))
    if role == Role.CURATOR:
        group, _ = Group.objects.get_or_create(name="curators")
        user.groups.add(group)
    return user
