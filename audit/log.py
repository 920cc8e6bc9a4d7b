from typing import Any

from django.db import models
from django.http import HttpRequest

from audit.models import AuditEntry
from bankwatch.addresses import client_ip


def record(
    action: str,
    obj: models.Model | None = None,
    *,
    actor: Any = None,
    actor_label: str = "",
    request: HttpRequest | None = None,
    **detail: Any,
) -> AuditEntry:
    """Append one audit entry. Call it inside the transaction of the change it records."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    label = actor_label or (actor.get_username() if actor is not None else "system")
    return AuditEntry.objects.create(
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_label=label,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        ip=client_ip(request),
        detail=detail,
    )
