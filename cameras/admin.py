from django.contrib import admin

from cameras.models import Camera


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ["name", "branch", "is_active", "last_seen_at"]
    list_filter = ["is_active", "branch__bank"]
    search_fields = ["name", "branch__name"]
    readonly_fields = ["created_at", "last_seen_at"]
