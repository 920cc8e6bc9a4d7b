"""Police cases opened on escalated alerts, with their notes."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from alerts.models import Alert


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    alert = models.OneToOneField(Alert, on_delete=models.PROTECT, related_name="case")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"BW-{self.opened_at:%Y}-{self.pk:06d}" if self.pk and self.opened_at else "BW-new"


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class LegalHold(models.Model):
    """A case's hold on its alert, the alert's sightings and their images (the evidence): retention and
    deletion requests leave them alone until the hold is released (cases.actions.release_hold)."""

    # The case that placed it; none for a hold the data protection officer placed on the police's request.
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="holds")
    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="holds")
    reason = models.TextField(_("reason"), blank=True)
    placed_at = models.DateTimeField(auto_now_add=True)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True, db_index=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_reason = models.TextField(_("reason for release"), blank=True)

    class Meta:
        ordering = ["-placed_at"]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")

    def __str__(self) -> str:
        return f"Hold on alert #{self.alert_id}" + (f" ({self.case})" if self.case_id else "")

    @property
    def is_active(self) -> bool:
        return self.released_at is None


def held_alert_ids() -> "models.QuerySet[LegalHold, int]":
    """The alerts an unreleased hold keeps (a values_list usable in pk__in)."""
    return LegalHold.objects.filter(released_at__isnull=True).values_list("alert_id", flat=True)
