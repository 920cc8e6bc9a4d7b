from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Bank, Branch


class Role(models.TextChoices):
    BANK_SECURITY = "bank_security", _("Bank security")
    POLICE = "police", _("Police liaison")
    CURATOR = "curator", _("Watchlist curator")
    AUDITOR = "auditor", _("Auditor")
    # The responsible person of Law 91/2025 for sensitive data: the impact assessment, requests of the
    # people concerned, legal holds, breaches and notices (privacy/); nothing of the alert flow.
    DATA_PROTECTION_OFFICER = "data_protection_officer", _("Data protection officer")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    bank = models.ForeignKey(
        Bank,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_("Bank security staff see this bank only."),
    )
    branches = models.ManyToManyField(
        Branch,
        blank=True,
        related_name="staff",
        help_text=_("When set, bank security staff see only these branches of their bank."),
    )
    jurisdiction = models.CharField(
        _("police jurisdiction"),
        max_length=100,
        blank=True,
        help_text=_("Police liaisons see escalations from banks of this jurisdiction."),
    )
    is_security_manager = models.BooleanField(
        _("security manager"),
        default=False,
        help_text=_("Bank security staff only: receives alerts that nobody acknowledged in time."),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=[("vi", "Tiếng Việt"), ("en", "English")], default="vi"
    )

    @property
    def is_bank_security(self) -> bool:
        return self.role == Role.BANK_SECURITY

    @property
    def is_police(self) -> bool:
        return self.role == Role.POLICE

    @property
    def is_curator(self) -> bool:
        return self.role == Role.CURATOR or self.is_superuser

    @property
    def is_auditor(self) -> bool:
        return self.role == Role.AUDITOR

    @property
    def is_data_protection_officer(self) -> bool:
        return self.role == Role.DATA_PROTECTION_OFFICER or self.is_superuser
