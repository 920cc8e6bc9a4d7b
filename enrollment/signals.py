"""Any save or delete that changes what the gallery holds bumps GalleryVersion.

Kept as signals so that no path (actions, admin, API, a shell, another app's test
factory) can change a template, subject, counter-example or watchlist and leave worker
processes searching a stale gallery.
"""

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from enrollment.models import CounterExample, FaceTemplate, GalleryVersion, Subject, Watchlist


def _bump(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # loaddata
    action = kwargs.get("action")
    if action is not None and not action.startswith("post_"):
        return
    GalleryVersion.bump()


def connect() -> None:
    for model in (Watchlist, Subject, FaceTemplate, CounterExample):
        post_save.connect(_bump, sender=model, dispatch_uid=f"gallery-save-{model.__name__}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"gallery-delete-{model.__name__}")
    for through in (Watchlist.banks.through, Watchlist.branches.through):
        m2m_changed.connect(_bump, sender=through, dispatch_uid=f"gallery-m2m-{through.__name__}")
