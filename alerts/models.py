"""Frames from cameras, the alerts they raise, sightings on them and the event log of the live feed."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from numpy.typing import NDArray

from cameras.models import Camera
from enrollment.models import Subject, Watchlist
from organizations.models import Bank, Branch

# What each covering label means to a person (labels come from recognition.covering, plus
# face_hidden: someone in view whose face the detector cannot see).
COVERING_LABELS = {
    "mask": _("mask"),
    "helmet": _("helmet"),
    "sunglasses": _("sunglasses"),
    "hood": _("hood or cap"),
    "face_hidden": _("face not visible"),
}


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
    """A match against a watchlist, or a covered-face event (`kind`): the second makes no identity
    claim, so it has no subject, watchlist, score or threshold, only the covering seen."""

    class Kind(models.TextChoices):
        MATCH = "match", _("Watchlist match")
        COVERED = "covered", _("Covered face")

    class Response(models.TextChoices):
        ASKED_TO_UNCOVER = "asked_to_uncover", _("Asked to uncover")
        SECURITY_CALLED = "security_called", _("Security called")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_REVIEW = "in_review", _("In review")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")
        ESCALATED = "escalated", _("Escalated to police")
        CASE_OPENED = "case_opened", _("Case opened")
        CLOSED = "closed", _("Closed")

    # The status sets the rest of the code asks about, each named once.
    # Still open: a new match of the subject at the branch becomes a sighting on it (alerts.agreement).
    OPEN_STATUSES = (
        Status.NEW,
        Status.IN_REVIEW,
        Status.CONFIRMED,
        Status.ESCALATED,
        Status.CASE_OPENED,
    )
    # What still waits for bank security to act (their queue; the review page's buttons).
    OPEN_FOR_BANK = (Status.NEW, Status.IN_REVIEW, Status.CONFIRMED)
    # What still waits for the police to act (their queue).
    OPEN_FOR_POLICE = (Status.ESCALATED, Status.CASE_OPENED)
    # Escalated at some point: the police of the bank's jurisdiction see it, on pages and on the feed.
    POLICE_STATUSES = (Status.ESCALATED, Status.CASE_OPENED, Status.CLOSED)
    # A police case exists for it.
    WITH_CASE = (Status.CASE_OPENED, Status.CLOSED)

    class DismissReason(models.TextChoices):
        NOT_THIS_PERSON = "not_this_person", _("Not this person")
        POOR_IMAGE = "poor_image", _("Image too poor")
        DUPLICATE = "duplicate", _("Duplicate")
        OTHER = "other", _("Other")
        FALSE_ALARM = "false_alarm", _("False alarm")
        # Nobody reviewed it within BANKWATCH_RETENTION_OPEN_ALERT_DAYS (retention closed it).
        UNREVIEWED = "unreviewed", _("Closed unreviewed")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MATCH, db_index=True)
    subject = models.ForeignKey(Subject, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    watchlist = models.ForeignKey(Watchlist, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="alerts")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="alerts")
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="alerts")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW, db_index=True)
    dismiss_reason = models.CharField(max_length=20, choices=DismissReason.choices, blank=True)
    note = models.TextField(blank=True)
    score = models.FloatField(null=True, blank=True, help_text="highest cosine similarity seen (matches only)")
    threshold = models.FloatField(null=True, blank=True, help_text="the watchlist threshold when raised (matches only)")
    # {"labels": [...], "scores": {label: confidence}}: what covered the probe face (a covered-face
    # event, or a match made on a covered face). Kept only on alerts, never for faces that raise nothing.
    covering = models.JSONField(default=dict, blank=True)
    response = models.CharField(max_length=20, choices=Response.choices, blank=True)
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
    # 0: on time; 1: announced again and mailed to the branch; 2: escalated to the bank's security managers
    unacknowledged_stage = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["created_at"]
        # The queues (bank, status, time) and the API's and audit's lists of a bank or branch by time.
        indexes = [
            models.Index(fields=["bank", "status", "created_at"]),
            models.Index(fields=["bank", "created_at"]),
            models.Index(fields=["branch", "created_at"]),
        ]
        constraints = [
            # A covered-face event makes no identity claim; a match always names whom and how sure.
            models.CheckConstraint(
                condition=(
                    models.Q(kind="match", subject__isnull=False, watchlist__isnull=False, score__isnull=False)
                    | models.Q(kind="covered", subject__isnull=True, watchlist__isnull=True, score__isnull=True)
                ),
                name="covered_event_names_no_one",
            )
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.COVERED:
            return f"Covered-face event #{self.pk} at {self.branch}"
        return f"Alert #{self.pk} {self.subject} at {self.branch}"

    @property
    def is_covered_event(self) -> bool:
        return self.kind == self.Kind.COVERED

    def seen_recently_by(self, camera: Camera, seen_at: datetime) -> bool:
        """Whether `camera` has a sighting on this alert within SIGHTING_INTERVAL_SECONDS of `seen_at`:
        a further one then would only repeat it."""
        interval = timedelta(seconds=settings.SIGHTING_INTERVAL_SECONDS)
        return self.sightings.filter(
            camera=camera, seen_at__gt=seen_at - interval, seen_at__lt=seen_at + interval
        ).exists()

    def best_sighting(self) -> "Sighting | None":
        """The sighting whose face scored highest: the face shown (and exported) beside the alert's score.
        A covered-face event has none (no score)."""
        if self.is_covered_event:
            return None
        return self.sightings.exclude(face_crop="").order_by("-score", "seen_at", "id").first()

    @property
    def covering_labels(self) -> list[str]:
        return list((self.covering or {}).get("labels", []))

    @property
    def covering_names(self) -> str:
        return ", ".join(str(COVERING_LABELS.get(label, label)) for label in self.covering_labels)

    @property
    def headline(self) -> str:
        """What a list calls this alert: the subject's name, or what covered the face."""
        if self.subject is None:
            return str(_("Covered face: %(labels)s") % {"labels": self.covering_names})
        return self.subject.full_name


class Sighting(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="sightings")
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="+")
    frame_id = models.BigIntegerField(help_text="the frame it came from; unique so a re-run job adds nothing")
    seen_at = models.DateTimeField(db_index=True)
    score = models.FloatField(help_text="match: cosine similarity; covered-face event: the top covering confidence")
    box = models.JSONField(default=list)
    covering = models.JSONField(default=dict, blank=True)
    face_crop = models.FileField(upload_to="alerts/crops/", blank=True)
    frame_image = models.FileField(upload_to="alerts/frames/", blank=True, help_text="bystanders blurred")

    class Meta:
        ordering = ["seen_at"]
        constraints = [models.UniqueConstraint(fields=["alert", "frame_id"], name="one_sighting_per_frame")]

    @property
    def covering_names(self) -> str:
        labels = (self.covering or {}).get("labels", [])
        return ", ".join(str(COVERING_LABELS.get(label, label)) for label in labels)


@dataclass
class Observation:
    """One matching face in one frame: what an alert or a sighting keeps as evidence."""

    camera: Camera
    frame_id: int
    seen_at: datetime
    score: float
    threshold: float
    box: list[int]
    face_crop: bytes = b""  # JPEG of the aligned face
    frame_image: bytes = b""  # JPEG of the frame, every other face blurred
    embedding: NDArray[np.float32] | None = field(default=None, repr=False)
    # {"labels": [...], "scores": {label: confidence}} when the face was covered (or hidden).
    # For a covered-face event `score` is the top covering confidence and `threshold` is unused.
    covering: dict[str, Any] = field(default_factory=dict)


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

    @classmethod
    def hold(cls, subject: Subject, watchlist_id: int, obs: Observation) -> "PendingMatch":
        """Keep an observation until a second one agrees; the same frame twice is held once."""
        row, _ = cls.objects.get_or_create(
            camera=obs.camera,
            subject=subject,
            frame_id=obs.frame_id,
            defaults={
                "watchlist_id": watchlist_id,
                "seen_at": obs.seen_at,
                "score": obs.score,
                "threshold": obs.threshold,
                "box": obs.box,
                "face_crop": obs.face_crop,
                "frame_image": obs.frame_image,
                "embedding": np.asarray(obs.embedding, np.float32).tobytes(),
            },
        )
        return row

    def to_observation(self, camera: Camera) -> Observation:
        """The observation held here, as it was seen (the inverse of `hold`)."""
        return Observation(
            camera=camera,
            frame_id=self.frame_id,
            seen_at=self.seen_at,
            score=self.score,
            threshold=self.threshold,
            box=list(self.box),
            face_crop=bytes(self.face_crop),
            frame_image=bytes(self.frame_image),
            embedding=np.frombuffer(bytes(self.embedding), dtype=np.float32),
        )


class PendingCovering(models.Model):
    """A covered (or hidden) face seen once, waiting for agreement from another frame of the same
    camera before it raises a covered-face event. Like PendingMatch, it goes once an event takes it
    over or once the agreement window has passed (the sweep)."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")
    frame_id = models.BigIntegerField()
    face_index = models.PositiveSmallIntegerField(help_text="which covered face or hidden person of the frame")
    seen_at = models.DateTimeField()
    covering = models.JSONField(default=dict)
    box = models.JSONField(default=list)
    face_crop = models.BinaryField(blank=True)  # JPEG; empty for a hidden face
    frame_image = models.BinaryField()  # JPEG, every other face blurred
    embedding = models.BinaryField(null=True, blank=True)  # float32; none for a hidden face
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["camera", "seen_at"])]
        constraints = [
            models.UniqueConstraint(fields=["camera", "frame_id", "face_index"], name="one_pending_covering_per_face")
        ]

    @classmethod
    def hold(cls, obs: Observation, face_index: int) -> "PendingCovering":
        """Keep a covered face until another frame agrees; the same face of a frame is held once."""
        row, _ = cls.objects.get_or_create(
            camera=obs.camera,
            frame_id=obs.frame_id,
            face_index=face_index,
            defaults={
                "seen_at": obs.seen_at,
                "covering": obs.covering,
                "box": obs.box,
                "face_crop": obs.face_crop,
                "frame_image": obs.frame_image,
                "embedding": np.asarray(obs.embedding, np.float32).tobytes() if obs.embedding is not None else None,
            },
        )
        return row

    @property
    def face_embedding(self) -> NDArray[np.float32] | None:
        return np.frombuffer(bytes(self.embedding), dtype=np.float32) if self.embedding else None

    def to_observation(self, camera: Camera) -> Observation:
        """The covered face held here, as it was seen (the inverse of `hold`); its score is the top covering confidence."""
        return Observation(
            camera=camera,
            frame_id=self.frame_id,
            seen_at=self.seen_at,
            score=max(self.covering.get("scores", {}).values(), default=1.0),
            threshold=0.0,
            box=list(self.box),
            face_crop=bytes(self.face_crop),
            frame_image=bytes(self.frame_image),
            embedding=self.face_embedding,
            covering=dict(self.covering),
        )


class AlertEvent(models.Model):
    """The live feed's log: every event sent, so a client that reconnects gets what it missed."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)  # alert.created | alert.updated | alert.unacknowledged
    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    for_police = models.BooleanField(default=False, help_text="escalated: police of the bank's jurisdiction see it")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)  # retention purges by age

    class Meta:
        ordering = ["id"]


class SearchTally(models.Model):
    """How many faces a camera's frames put to the gallery on one day (a count, no face data):
    the denominator of the observed false-alert rate curators see (alerts/field_rates.py)."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    faces = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["camera", "day"], name="one_tally_per_camera_day")]
