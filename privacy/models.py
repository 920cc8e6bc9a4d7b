"""What the data protection officer keeps under Law 91/2025: the impact assessments produced, the
requests of the people concerned, and the breach register. Legal holds live with cases
(cases.models.LegalHold); the notice text with each bank (organizations.models.Bank)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Bank


class PrivacyReport(models.Model):
    """One impact assessment produced (privacy.report): when, by whom, and the figures it gave."""

    produced_at = models.DateTimeField(db_index=True)
    produced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(max_length=8)
    figures = models.JSONField(default=dict)

    class Meta:
        ordering = ["-produced_at"]
        verbose_name = _("impact assessment")
        verbose_name_plural = _("impact assessments")

    def __str__(self) -> str:
        return f"Impact assessment {self.produced_at:%Y-%m-%d %H:%M}"


class DataRequest(models.Model):
    """A request from a person concerned: access, correction or deletion, with its legal deadline.

    What the photo search found is kept as ids (subjects, alerts, counter-examples), never the photo."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access")
        CORRECTION = "correction", _("Correction")
        DELETION = "deletion", _("Deletion")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        REFUSED = "refused", _("Refused")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    requester = models.CharField(_("requester"), max_length=200)
    contact = models.CharField(_("contact"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received"))
    deadline = models.DateTimeField(_("legal deadline"), editable=False)
    details = models.TextField(_("details"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    found = models.JSONField(_("found by the photo search"), default=dict, blank=True, editable=False)
    searched_at = models.DateTimeField(null=True, blank=True, editable=False)
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["deadline"]
        verbose_name = _("request from a person concerned")
        verbose_name_plural = _("requests from people concerned")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}: {self.requester}"


class Breach(models.Model):
    """One entry of the breach register, with the audit log around it as it stood when recorded."""

    what = models.TextField(_("what happened"))
    occurred_at = models.DateTimeField(_("occurred"), null=True, blank=True)
    found_at = models.DateTimeField(_("found"))
    data_affected = models.TextField(_("data affected"))
    people_affected = models.PositiveIntegerField(_("people affected"), default=0)
    actions_taken = models.TextField(_("actions taken"), blank=True)
    notifications = models.TextField(
        _("notifications made"), blank=True, help_text=_("Who was told (authority, people concerned), how and when.")
    )
    authority_notified_at = models.DateTimeField(_("authority notified"), null=True, blank=True)
    audit_excerpt = models.JSONField(default=list, blank=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-found_at"]
        verbose_name = _("breach")
        verbose_name_plural = _("breach register")

    def __str__(self) -> str:
        return f"Breach #{self.pk} found {self.found_at:%Y-%m-%d}"


class Notice(Bank):
    """A bank seen by the data protection officer: its recognition notice and the A4 sign made from it."""

    class Meta:
        proxy = True
        verbose_name = _("recognition notice")
        verbose_name_plural = _("recognition notices")
