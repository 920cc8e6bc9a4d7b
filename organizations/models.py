from django.db import models
from django.utils.translation import gettext_lazy as _


class Bank(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    # Never guessed: empty until someone who knows sets it, and a bank without one cannot
    # escalate (alerts/actions.py says why); the admin lists such banks.
    jurisdiction = models.CharField(
        _("police jurisdiction"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("Police liaisons of this jurisdiction receive this bank's escalations. Empty: it cannot escalate."),
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
