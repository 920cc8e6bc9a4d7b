from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera

# Covered-face events (alerts of kind "covered") that a reviewer called a false alarm: the
# camera's precision in the field. Counted through the reverse relation, so cameras imports nothing of alerts.
FALSE_ALARMS = Count("alerts", filter=Q(alerts__kind="covered", alerts__dismiss_reason="false_alarm"))


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ["name", "branch", "is_active", "last_seen_at", "covered_false_alarms"]
    list_filter = ["is_active", "branch__bank"]
    search_fields = ["name", "branch__name"]
    readonly_fields = ["created_at", "last_seen_at", "covered_false_alarms"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Camera]:
        return super().get_queryset(request).annotate(n_false_alarms=FALSE_ALARMS)

    @admin.display(description=_("covered-face false alarms"), ordering="n_false_alarms")
    def covered_false_alarms(self, camera: Camera) -> int:
        return int(getattr(camera, "n_false_alarms", 0))
