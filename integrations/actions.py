"""State changes of integrations, each writing the row and its audit entry together:
API keys (create, revoke) and webhooks (add, replay a delivery)."""

import secrets
from datetime import datetime
from typing import cast

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.actions import create_user
from accounts.models import Role, User
from audit.log import record
from integrations.models import EVENT_TYPES, ApiKey, Webhook, WebhookDelivery
from organizations.models import Bank

BANK_ADMINS = "bank administrators"
# What a bank administrator may do beyond their role: the bank's cameras (cameras/api.py) and
# webhooks with their delivery log (integrations/api.py). A superuser grants it in the admin
# (Groups), create_api_key --admin gives it to a key.
BANK_ADMIN_PERMISSIONS = (
    ("cameras", "add_camera"),
    ("cameras", "change_camera"),
    ("integrations", "view_webhook"),
    ("integrations", "change_webhook"),
)


def bank_admin_group() -> Group:
    group, _ = Group.objects.get_or_create(name=BANK_ADMINS)
    for app_label, codename in BANK_ADMIN_PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group


@transaction.atomic
def create_api_key(
    name: str,
    role: str,
    *,
    bank_name: str = "",
    branch_names: tuple[str, ...] = (),
    jurisdiction: str = "",
    expires: datetime | None = None,
    admin: bool = False,
    created_by: str = "manage.py",
) -> tuple[ApiKey, str]:
    """A key acting as a service account of `role` and scope; returns it and the key, shown once."""
    UnicodeUsernameValidator()(name)
    if User.objects.filter(username=name).exists():
        raise ValidationError(f"a user or API key named {name!r} exists already")
    if expires is not None and expires <= timezone.now():
        raise ValidationError("the expiry date lies in the past")
    user = create_user(
        name,
        role,
        secrets.token_urlsafe(32),
        bank_name=bank_name,
        branch_name=branch_names[0] if branch_names else "",
        jurisdiction=jurisdiction,
    )
    user.set_unusable_password()
    user.is_staff = False  # a key never opens the admin, whatever its role
    user.save(update_fields=["password", "is_staff"])
    if len(branch_names) > 1:
        from organizations.actions import get_or_create_branch

        user.branches.add(*(get_or_create_branch(bank_name, branch) for branch in branch_names[1:]))
    if admin:
        if role not in (Role.BANK_SECURITY, Role.POLICE):
            raise ValidationError("--admin is for bank security and police keys")
        user.groups.add(bank_admin_group())
    created, key = ApiKey.objects.create_key(name=name, user=user, expiry_date=expires)
    api_key = cast(ApiKey, created)
    record(
        "api_key.created",
        api_key,
        actor_label=created_by,
        name=name,
        role=role,
        bank=bank_name,
        branches=list(branch_names),
        jurisdiction=user.jurisdiction,
        expires=expires.isoformat() if expires else None,
        admin=admin,
    )
    return api_key, key


@transaction.atomic
def revoke_api_key(api_key: ApiKey, *, by: str = "manage.py") -> bool:
    """Revoke for good (the library refuses to undo it); False when it was revoked already."""
    if not ApiKey.objects.filter(pk=api_key.pk, revoked=False).update(revoked=True):
        return False
    User.objects.filter(pk=api_key.user_id).update(is_active=False)
    api_key.refresh_from_db()
    record("api_key.revoked", api_key, actor_label=by, name=api_key.name)
    return True


@transaction.atomic
def add_webhook(
    url: str,
    *,
    bank_name: str = "",
    jurisdiction: str = "",
    events: tuple[str, ...] = (),
    created_by: str = "manage.py",
) -> tuple[Webhook, str]:
    """An endpoint of one bank or one police jurisdiction; returns it and its signing secret, shown once."""
    from cameras.credentials import seal
    from integrations.webhooks import check_url

    if bool(bank_name) == bool(jurisdiction):
        raise ValidationError("give a bank or a jurisdiction, not both")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError(f"unknown events {unknown}; use {', '.join(EVENT_TYPES)}")
    check_url(url)
    bank = Bank.objects.filter(name=bank_name).first() if bank_name else None
    if bank_name and bank is None:
        raise ValidationError(f"no bank named {bank_name!r}")
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    webhook = Webhook.objects.create(
        bank=bank, jurisdiction=jurisdiction.strip(), url=url, secret=seal(secret), events=list(events)
    )
    record("webhook.added", webhook, actor_label=created_by, url=url, bank=bank_name, jurisdiction=jurisdiction)
    return webhook, secret


@transaction.atomic
def replay_delivery(delivery: WebhookDelivery, user: User, *, request: HttpRequest | None = None) -> WebhookDelivery:
    """Send a logged event again as a new delivery (the log keeps the old one as it was)."""
    from bankwatch.jobs import enqueue

    again = WebhookDelivery.objects.create(
        webhook=delivery.webhook, event_id=delivery.event_id, event_type=delivery.event_type, payload=delivery.payload
    )
    record("webhook.replayed", delivery, actor=user, request=request, new_delivery_id=again.pk)
    enqueue("integrations.deliver_webhook", again.pk)
    return again
