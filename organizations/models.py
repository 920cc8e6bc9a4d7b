from django.db import models
from django.utils.translation import gettext_lazy as _


class Bank(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    jurisdiction = models.CharField(
        _("police jurisdiction"),
        max_length=100,
        default="Ho Chi Minh City",
        help_text=_("Police liaisons of this jurisdiction receive this bank's escalations."),
    )
    # Shown on every entrance display of the bank (Law 91/2025 asks for notice of recording in
    # public places); empty: the default notice.
    recognition_notice_vi = models.TextField(_("recognition notice (Vietnamese)"), blank=True)
    recognition_notice_en = models.TextField(_("recognition notice (English)"), blank=True)

    def __str__(self) -> str:
        return self.name


class Branch(models.Model):
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="branches")
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bank", "name"], name="unique_branch_per_bank")]
        verbose_name_plural = "branches"

    def __str__(self) -> str:
        return f"{self.bank.name} / {self.name}"
