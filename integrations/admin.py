from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from rest_framework_api_key.models import APIKey

from integrations.actions import revoke_api_key
from integrations.models import ApiKey, Webhook, WebhookAttempt, WebhookDelivery

# The library's own model is unused: BankWatch's keys carry their service account (integrations/models.py).
admin.site.unregister(APIKey)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made by `manage.py create_api_key` (which makes their service account); here they are
    listed and revoked (audited, for good)."""

    list_display = ["prefix", "name", "user", "created", "expiry_date", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "prefix"]
    fields = ["prefix", "name", "user", "created", "expiry_date", "last_used_at", "revoked"]
    readonly_fields = ["prefix", "name", "user", "created", "expiry_date", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the audit log names the key; it stays, revoked

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if obj.revoked:
            revoke_api_key(obj, by=request.user.get_username())


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("number", "at", "status_code", "response_ms", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Endpoints are added by `manage.py add_webhook` (it prints the secret once); here they are listed,
    their events chosen and disabled."""

    list_display = ["url", "bank", "jurisdiction", "is_active", "created_at"]
    list_filter = ["is_active"]
    fields = ["url", "bank", "jurisdiction", "events", "is_active"]
    readonly_fields = ["url", "bank", "jurisdiction"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log, read-only (replay: POST /api/v1/webhook-deliveries/{id}/replay)."""

    list_display = ["id", "webhook", "event_type", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event_type"]
    inlines = [AttemptInline]
    exclude = ["payload"]  # it names the subject: the bank's administrators read it through the scoped API

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
