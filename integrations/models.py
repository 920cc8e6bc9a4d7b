"""Integrators' credentials and the routes alerts take out of BankWatch.

An ApiKey (djangorestframework-api-key: stored as a SHA-512 hash, revocable, expiring) acts as
its own service account, a User of the key's role and scope with no usable password, so every
access check of the project (alerts_visible_to, cases_visible_to, cameras_visible_to) applies to
a key exactly as to a person, and the audit log names the key.

A Webhook is an endpoint of one bank (or, for police, one jurisdiction); each event it wants
becomes a WebhookDelivery, tried by jobs (integrations/webhooks.py) and logged attempt by attempt.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from organizations.models import Bank


class ApiKeyManager(APIKeyManager):
    def get_usable_keys(self) -> models.QuerySet["ApiKey"]:
        return super().get_usable_keys().select_related("user")


class ApiKey(AbstractAPIKey):
    objects: ClassVar[ApiKeyManager] = ApiKeyManager()
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_key", editable=False
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)


EVENT_TYPES = (
    "alert.created",
    "alert.updated",
    "alert.unacknowledged",
    "case.opened",
    "case.closed",
    "covered.created",
    "camera.updated",
)


class Webhook(models.Model):
    bank = models.ForeignKey(Bank, null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks")
    jurisdiction = models.CharField(_("police jurisdiction"), max_length=100, blank=True, default="")
    url = models.URLField(_("URL"), max_length=500)
    # Fernet-encrypted (integrations/webhooks.py): the signing secret must be read back to sign.
    secret = models.TextField(editable=False)
    events = models.JSONField(_("events"), default=list, help_text=_("empty: every event"))
    is_active = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(bank__isnull=False, jurisdiction="") | models.Q(bank__isnull=True, jurisdiction__gt=""),
                name="webhook_bank_or_jurisdiction",
            )
        ]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RETRYING = "retrying", _("retrying")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=64, db_index=True)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response_ms = models.FloatField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_ms = models.FloatField()
    error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["number"]
