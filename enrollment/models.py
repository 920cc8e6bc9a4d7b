"""Watchlists, their subjects, reference photos and the face templates made from them."""

import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Bank, Branch

# The admin, the API, the importer and the CLI all refuse a bad value through these, with these words.
validate_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Write the colour as #rrggbb, for example #b3261e."), code="colour"
)


def validate_threshold(value: float) -> None:
    """A watchlist's threshold lies between the floor (BANKWATCH_MIN_WATCHLIST_THRESHOLD) and 1."""
    params = {"value": value, "floor": settings.MIN_WATCHLIST_THRESHOLD, "default": settings.RECOGNITION_THRESHOLD}
    if value > 1.0:
        raise ValidationError(
            _("A match threshold is a similarity of at most 1; %(value)s is more."),
            code="threshold_high",
            params=params,
        )
    if value < settings.MIN_WATCHLIST_THRESHOLD:
        raise ValidationError(
            _(
                "A match threshold of %(value)s is below the floor of %(floor)s: strangers would raise alerts. "
                "Leave it empty to use the default, %(default)s."
            ),
            code="threshold_low",
            params=params,
        )


def validate_expiry(expires_at: Any, previous: Any = None) -> None:
    """A newly set expiry lies in the future (an expiry that has passed on its own may stay)."""
    if expires_at is None or expires_at == previous or expires_at > timezone.now():
        return
    raise ValidationError(
        _("The expiry date %(date)s has already passed: give a date in the future, or leave it empty."),
        code="expiry_passed",
        params={"date": timezone.localtime(expires_at).date().isoformat()},
    )


class Watchlist(models.Model):
    class Priority(models.IntegerChoices):
        # The dashboard shows waiting alerts of a higher priority first (then the newest first).
        HIGH = 1, _("High")
        NORMAL = 2, _("Normal")
        LOW = 3, _("Low")

    class Sound(models.TextChoices):
        SIREN = "siren", _("Siren")
        CHIME = "chime", _("Chime")
        BEEP = "beep", _("Beep")
        NONE = "none", _("Silent")

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    agency = models.CharField(_("owning agency"), max_length=200, default="Ho Chi Minh City Police")
    threshold = models.FloatField(
        _("match threshold"),
        null=True,
        blank=True,
        validators=[validate_threshold],
        help_text=_(
            "Cosine similarity needed for a match; empty uses the system default. Larger lists need a stricter value."
        ),
    )
    colour = models.CharField(
        _("colour"), max_length=7, default="#b3261e", help_text=_("#rrggbb"), validators=[validate_colour]
    )
    sound = models.CharField(_("alert sound"), max_length=10, choices=Sound.choices, default=Sound.SIREN)
    requires_acknowledgement = models.BooleanField(_("alerts must be acknowledged"), default=True)
    acknowledge_within_seconds = models.PositiveIntegerField(
        _("acknowledge within (seconds)"),
        null=True,
        blank=True,
        help_text=_(
            "An alert still new after this long is announced again and e-mailed to the branch's security"
            " staff; after twice this long it goes to the bank's security managers. Empty: no deadline."
        ),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        choices=Priority.choices,
        default=Priority.NORMAL,
        help_text=_("Waiting alerts of a higher priority come first on the dashboard."),
    )
    banks = models.ManyToManyField(Bank, blank=True, help_text=_("Empty: applies to every bank."))
    branches = models.ManyToManyField(Branch, blank=True, help_text=_("Empty: every branch of the banks above."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def effective_threshold(self) -> float:
        return self.threshold if self.threshold is not None else settings.RECOGNITION_THRESHOLD

    def active_subject_count(self) -> int:
        return self.subjects.filter(status=Subject.Status.ACTIVE).count()

    def threshold_advice(self) -> dict[str, Any] | None:
        """The calibrated advice for this watchlist's size (recognition/advice.py), or None."""
        from recognition.advice import advice_for

        count = getattr(self, "active_subjects", None)
        return advice_for(count if count is not None else self.active_subject_count())


class Subject(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        REMOVED = "removed", _("Removed")

    watchlist = models.ForeignKey(Watchlist, on_delete=models.PROTECT, related_name="subjects")
    full_name = models.CharField(_("full name"), max_length=200)
    aliases = models.CharField(_("aliases"), max_length=500, blank=True, help_text=_("Comma-separated"))
    notes = models.TextField(_("notes"), blank=True)
    case_reference = models.CharField(_("case reference"), max_length=100, blank=True)
    legal_basis = models.CharField(_("legal basis for listing"), max_length=300, blank=True)
    # Caution flags: what a guard must know before walking up to this person (shown on every alert).
    armed = models.BooleanField(_("may be armed"), default=False, help_text=_("Shown on every alert of this subject."))
    violent = models.BooleanField(
        _("may be violent"), default=False, help_text=_("Shown on every alert of this subject.")
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(
        _("expires"), null=True, blank=True, help_text=_("Stops matching by itself after this moment.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    import_job = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="subjects", editable=False
    )

    def __str__(self) -> str:
        return self.full_name

    def clean(self) -> None:
        previous = None
        if self.pk is not None:
            previous = Subject.objects.filter(pk=self.pk).values_list("expires_at", flat=True).first()
        try:
            validate_expiry(self.expires_at, previous)
        except ValidationError as error:
            raise ValidationError({"expires_at": error}) from None

    @property
    def caution_flags(self) -> list[dict[str, str]]:
        """The caution flags set on this subject, each with its code and its words."""
        flags = [("armed", self.armed, _("may be armed")), ("violent", self.violent, _("may be violent"))]
        return [{"code": code, "name": str(name)} for code, on, name in flags if on]

    @property
    def alias_list(self) -> list[str]:
        return [alias.strip() for alias in self.aliases.split(",") if alias.strip()]

    @property
    def is_matchable(self) -> bool:
        return self.status == self.Status.ACTIVE and (self.expires_at is None or self.expires_at > timezone.now())


class ReferencePhoto(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        # The job itself broke (weights missing, storage down…): not a verdict on the photo.
        FAILED = "failed", _("Failed")
        # The face matches another subject's accepted photo: a curator decides (actions.decide_duplicate).
        HELD = "held", _("Held for a curator")

    class Decision(models.TextChoices):
        SAME = "same", _("Same person: move the photo to the matching subject")
        DIFFERENT = "different", _("Different people: accept it here")

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("photo"), upload_to="enrollment/photos/")
    face_crop = models.FileField(upload_to="enrollment/crops/", blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    # The reason is stored as a code with parameters (enrollment/reasons.py), worded in each reader's
    # language by reason(); rejection_reason keeps it in English for searching and the audit trail.
    rejection_code = models.CharField(max_length=40, blank=True)
    rejection_params = models.JSONField(default=dict, blank=True)
    rejection_reason = models.CharField(_("rejection reason"), max_length=300, blank=True)
    quality = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    import_job = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="photos", editable=False
    )
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    # The same face twice: the other subject it matched, and what a curator decided about it.
    held_with = models.ForeignKey(
        Subject, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True, editable=False)
    decision_note = models.TextField(blank=True, editable=False)

    def __str__(self) -> str:
        return f"{self.subject} #{self.pk}"

    def reason(self) -> str:
        """Why it was rejected or failed, in the active language ("" when accepted or pending)."""
        from enrollment.reasons import render

        return render(self.rejection_code, self.rejection_params) if self.rejection_code else self.rejection_reason


class FaceTemplate(models.Model):
    """One embedding of an accepted reference photo, by the model named in model_id."""

    photo = models.ForeignKey(ReferencePhoto, on_delete=models.CASCADE, related_name="templates")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="templates")
    model_id = models.CharField(max_length=100, db_index=True)
    embedding = models.BinaryField()  # float32, L2-normalised
    # Embedded from the photo with a synthetic mask drawn over nose and mouth (recognition/masking.py):
    # compared only with probes the covering step found masked, at a stricter threshold.
    masked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["photo", "model_id", "masked"], name="one_template_per_photo_model_and_kind"
            )
        ]


class CounterExample(models.Model):
    """A face a reviewer said is *not* this subject ("not this person"): it must not raise the same alert again."""

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="counter_examples")
    model_id = models.CharField(max_length=100)
    embedding = models.BinaryField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    source_alert_id = models.BigIntegerField(null=True, blank=True)

    class Status(models.TextChoices):
        ACTIVE = "active", _("Applied")
        # The probe scored far above the threshold against the subject's own photos: probably the
        # subject after all, so it is not applied until a curator says so.
        HELD = "held", _("Held: likely the subject")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Where it applies: the reviewer's branch (branch staff) or bank; both empty: everywhere,
    # which only a curator's approval sets (actions.approve_counter_example).
    bank = models.ForeignKey(Bank, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Branch, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    similarity_to_subject = models.FloatField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as long as the dismissed alert's images (BANKWATCH_RETENTION_DISMISSED_ALERT_DAYS).
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"not {self.subject} #{self.pk}"

    @property
    def scope(self) -> str:
        if self.branch_id is not None:
            return str(self.branch)
        return str(self.bank) if self.bank_id is not None else str(_("everywhere"))


class GalleryVersion(models.Model):
    """One row whose counter rises on every change to what the gallery holds.

    Each worker process compares it with the version its in-memory gallery was built
    from, so a new, removed or expired subject takes effect on the next frame everywhere.
    """

    version = models.BigIntegerField(default=0)

    @classmethod
    def bump(cls) -> None:
        # The new value is also at least the clock in microseconds, so a version is never
        # reused: after a rolled-back transaction, +1 alone would give an earlier number
        # back to different content, and a process holding that number would not rebuild.
        stamp = models.Value(time.time_ns() // 1000, output_field=models.BigIntegerField())
        updated = cls.objects.filter(pk=1).update(version=Greatest(models.F("version") + 1, stamp))
        if not updated:
            cls.objects.get_or_create(pk=1, defaults={"version": time.time_ns() // 1000})

    @classmethod
    def current(cls) -> int:
        return cls.objects.filter(pk=1).values_list("version", flat=True).first() or 0


class ImportJob(models.Model):
    """A bulk import: a CSV of subjects and a zip of their photos, enrolled in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    watchlist = models.ForeignKey(
        Watchlist,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Rows without a watchlist column go to this list."),
    )
    csv_file = models.FileField(_("CSV of subjects"), upload_to="enrollment/imports/")
    zip_file = models.FileField(_("zip of photos"), upload_to="enrollment/imports/")
    create_missing_watchlists = models.BooleanField(
        _("create missing watchlists"),
        default=False,
        help_text=_(
            "Unticked, a row naming a watchlist that does not exist is refused. Ticked, it is created "
            "with the banks, branches and threshold of the watchlist above."
        ),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    subjects_created = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True, help_text=_("Rows and photos that could not be imported"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Import #{self.pk} into {self.watchlist}"
