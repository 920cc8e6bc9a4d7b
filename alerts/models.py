"""Frames from cameras, the alerts they raise, sightings on them and the event log of the live feed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera
from enrollment.models import Subject, Watchlist
from organizations.models import Bank, Branch


class Frame(models.Model):
    """A camera frame waiting for, or under, recognition. Deleted once processed unless it is evidence."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="frames")
    image = models.FileField(upload_to="frames/", blank=True)
    captured_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    faces = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)


class Alert(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_REVIEW = "in_review", _("In review")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")
        ESCALATED = "escalated", _("Escalated to police")
        CASE_OPENED = "case_opened", _("Case opened")
        CLOSED = "closed", _("Closed")

    class DismissReason(models.TextChoices):
        NOT_THIS_PERSON = "not_this_person", _("Not this person")
        POOR_IMAGE = "poor_image", _("Image too poor")
        DUPLICATE = "duplicate", _("Duplicate")
        OTHER = "other", _("Other")

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="alerts")
    watchlist = models.ForeignKey(Watchlist, on_delete=models.PROTECT, related_name="alerts")
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="alerts")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="alerts")
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="alerts")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW, db_index=True)
    dismiss_reason = models.CharField(max_length=20, choices=DismissReason.choices, blank=True)
    note = models.TextField(blank=True)
    score = models.FloatField(help_text="highest cosine similarity seen")
    threshold = models.FloatField(help_text="the watchlist threshold when raised")
    probe_crop = models.FileField(upload_to="alerts/crops/", blank=True)
    evidence_frame = models.FileField(upload_to="alerts/frames/", blank=True, help_text="bystanders blurred")
    box = models.JSONField(default=list)
    # The probe face's embedding (float32 bytes): "not this person" turns it into a counter-example.
    probe_embedding = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_seen_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, help_text="optimistic lock: every transition adds one")

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["bank", "status", "created_at"])]

    def __str__(self) -> str:
        return f"Alert #{self.pk} {self.subject} at {self.branch}"


class Sighting(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="sightings")
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="+")
    frame_id = models.BigIntegerField(help_text="the frame it came from; unique so a re-run job adds nothing")
    seen_at = models.DateTimeField(db_index=True)
    score = models.FloatField()
    box = models.JSONField(default=list)
    face_crop = models.FileField(upload_to="alerts/crops/", blank=True)
    frame_image = models.FileField(upload_to="alerts/frames/", blank=True, help_text="bystanders blurred")

    class Meta:
        ordering = ["seen_at"]
        constraints = [models.UniqueConstraint(fields=["alert", "frame_id"], name="one_sighting_per_frame")]


class PendingMatch(models.Model):
    """A first matching observation waiting for a second one (agreement) before it raises an alert.

    It is a match, so its crop and blurred frame may be held here briefly; the row goes
    once an alert takes it over or once the agreement window has passed (the sweep).
    """

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="+")
    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="+")
    frame_id = models.BigIntegerField()
    seen_at = models.DateTimeField()
    score = models.FloatField()
    threshold = models.FloatField()
    box = models.JSONField(default=list)
    face_crop = models.BinaryField()  # JPEG
    frame_image = models.BinaryField()  # JPEG, bystanders blurred
    embedding = models.BinaryField()  # float32
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["camera", "subject", "seen_at"])]
        constraints = [
            models.UniqueConstraint(fields=["camera", "subject", "frame_id"], name="one_pending_match_per_frame")
        ]


class AlertEvent(models.Model):
    """The live feed's log: every event sent, so a client that reconnects gets what it missed."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)  # alert.created | alert.updated
    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    for_police = models.BooleanField(default=False, help_text="escalated: police of the bank's jurisdiction see it")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
