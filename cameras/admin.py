from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cameras.devices import revoke_device
from cameras.models import Camera, PairedDevice

# Covered-face events (alerts of kind "covered") that a reviewer called a false alarm: the
# camera's precision in the field. Counted through the reverse relation, so cameras imports nothing of alerts.
FALSE_ALARMS = Count("alerts", filter=Q(alerts__kind="covered", alerts__dismiss_reason="false_alarm"))


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ["name", "branch", "role", "is_active", "last_seen_at", "covered_false_alarms"]
    list_filter = ["role", "is_active", "branch__bank"]
    search_fields = ["name", "branch__name"]
    readonly_fields = ["created_at", "last_seen_at", "covered_false_alarms"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Camera]:
        return super().get_queryset(request).annotate(n_false_alarms=FALSE_ALARMS)

    @admin.display(description=_("covered-face false alarms"), ordering="n_false_alarms")
    def covered_false_alarms(self, camera: Camera) -> int:
        return int(getattr(camera, "n_false_alarms", 0))


@admin.action(description=_("Revoke the selected devices"), permissions=["revoke"])
def revoke_devices(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[PairedDevice]) -> None:
    revoked = sum(revoke_device(device, actor=request.user, request=request) for device in queryset)
    modeladmin.message_user(
        request, ngettext("%(n)d device revoked.", "%(n)d devices revoked.", revoked) % {"n": revoked}, messages.SUCCESS
    )


@admin.register(PairedDevice)
class PairedDeviceAdmin(admin.ModelAdmin):
    """Devices are created by pairing only; here they are seen and revoked."""

    list_display = ["__str__", "camera", "kind", "paired_at", "last_seen_at", "revoked_at"]
    list_filter = ["kind", "revoked_at", "camera__branch__bank"]
    search_fields = ["camera__name", "camera__branch__name"]
    fields = readonly_fields = ("camera", "kind", "user_agent", "paired_at", "last_seen_at", "revoked_at")
    actions = [revoke_devices]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, not deleted: the audit log keeps pointing at it

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("cameras.change_paireddevice")
