import hashlib
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cameras.credentials import seal
from organizations.models import Branch


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_signing_secret() -> str:
    return f"bws_{secrets.token_urlsafe(32)}"


def covered_false_alarms() -> models.Count:
    """Annotation: the camera's covered-face events (alerts of kind "covered") that a reviewer called
    a false alarm, its precision in the field. Through the reverse relation: cameras imports nothing of alerts."""
    return models.Count("alerts", filter=models.Q(alerts__kind="covered", alerts__dismiss_reason="false_alarm"))


# token digest -> (when accepted, camera): Camera.authenticate's memory of tokens it accepted lately.
_accepted_tokens: dict[str, tuple[float, "Camera"]] = {}


class Camera(models.Model):
    class Role(models.TextChoices):
        ENTRANCE = "entrance", pgettext_lazy("camera role", "entrance")
        LOBBY = "lobby", pgettext_lazy("camera role", "lobby")
        COUNTER = "counter", pgettext_lazy("camera role", "counter")
        ATM = "atm", pgettext_lazy("camera role", "ATM")
        OTHER = "other", pgettext_lazy("camera role", "other")

    class Source(models.TextChoices):
        PUSH = "push", _("pushes frames to the API")
        RTSP = "rtsp", _("RTSP stream")
        HTTP_MJPEG = "http_mjpeg", _("HTTP MJPEG stream")
        SNAPSHOT = "snapshot", _("HTTP snapshot URL, polled")

    class Auth(models.TextChoices):
        BASIC = "basic", _("basic")
        DIGEST = "digest", _("digest")

    class Health(models.TextChoices):
        ONLINE = "online", _("online")
        OFFLINE = "offline", _("offline")
        OBSTRUCTED = "obstructed", _("obstructed")
        FROZEN = "frozen", _("frozen")
        MOVED = "moved", _("moved")

    TAMPER_STATES = frozenset({Health.OFFLINE, Health.OBSTRUCTED, Health.FROZEN, Health.MOVED})

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="cameras")
    name = models.CharField(_("name"), max_length=200)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # During rotation the previous token keeps working until this moment.
    previous_token_hash = models.CharField(max_length=64, blank=True, default="", editable=False, db_index=True)
    previous_token_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by the first correctly signed request: from then on unsigned requests are refused
    # (cameras/signing.py), so stripping the headers off a captured request gets nothing in.
    signs_requests = models.BooleanField(default=False, editable=False)
    # The key requests are signed with, separate from the token (which every request carries):
    # one Fernet token (cameras/credentials.py), shown once at creation and rotation. The previous
    # one keeps verifying as long as the previous token works.
    signing_secret = models.TextField(blank=True, default="", editable=False)
    previous_signing_secret = models.TextField(blank=True, default="", editable=False)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.OTHER)
    is_active = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Where frames come from: pushed to the API, or pulled by a stream supervisor (cameras/supervisor.py).
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.PUSH)
    stream_url = models.CharField(
        _("stream URL"), max_length=500, blank=True, default="", help_text=_("without user name or password")
    )
    stream_auth = models.CharField(
        _("HTTP authentication"), max_length=8, choices=Auth.choices, default=Auth.DIGEST, blank=True
    )
    # User name and password, one Fernet token (cameras/credentials.py); never shown after saving.
    stream_credentials = models.TextField(blank=True, default="", editable=False)
    fps = models.FloatField(_("frames per second"), default=5.0, help_text=_("sampled for recognition"))
    config_version = models.PositiveIntegerField(default=1, editable=False)  # supervisors restart a reader on change
    # Health (cameras/health.py): the state, since when, and the last problem in words.
    health = models.CharField(_("health"), max_length=16, choices=Health.choices, default=Health.OFFLINE)
    health_since = models.DateTimeField(_("since"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True, default="")
    reference_view = models.BinaryField(null=True, blank=True, editable=False)  # thumbnail of the normal scene

    class Meta:
        constraints = [models.UniqueConstraint(fields=["branch", "name"], name="unique_camera_per_branch")]

    def __str__(self) -> str:
        return f"{self.branch} / {self.name}"

    def issue_credentials(self, keep_previous_for_seconds: int = 0) -> str:
        """Give the camera a new token (only its hash is stored) and a new signing secret (stored
        encrypted); the previous pair keeps working for keep_previous_for_seconds. Returns the token
        once; the secret is read back once by whoever shows it (cameras.signing.secret_of)."""
        token = f"bw_{secrets.token_urlsafe(32)}"
        if keep_previous_for_seconds and self.token_hash:
            self.previous_token_hash = self.token_hash
            self.previous_signing_secret = self.signing_secret
            self.previous_token_valid_until = timezone.now() + timedelta(seconds=keep_previous_for_seconds)
        else:
            self.previous_token_hash = ""
            self.previous_signing_secret = ""
            self.previous_token_valid_until = None
        self.token_hash = hash_token(token)
        self.signing_secret = seal(new_signing_secret())
        return token

    @classmethod
    def authenticate(cls, token: str) -> "Camera | None":
        """The active camera of this token (or of its previous token, within the rotation grace).

        A token accepted is remembered in this process for BANKWATCH_CAMERA_AUTH_CACHE_SECONDS (5 s)
        so that a camera pushing 5 frames a second costs one query per 5 s, not one per frame;
        disabling a camera or ending a token's grace takes effect within that time. Unknown
        tokens are never remembered: each costs its query."""
        if not token:
            return None
        digest = hash_token(token)
        ttl = settings.CAMERA_AUTH_CACHE_SECONDS
        remembered = _accepted_tokens.get(digest)
        if remembered is not None and time.monotonic() - remembered[0] < ttl:
            return remembered[1]
        camera = cls.objects.select_related("branch__bank").filter(token_hash=digest, is_active=True).first()
        if camera is None:
            camera = (
                cls.objects.select_related("branch__bank")
                .filter(
                    previous_token_hash=digest,
                    previous_token_valid_until__gt=timezone.now(),
                    is_active=True,
                )
                .first()
            )
        if camera is not None and ttl > 0:
            if len(_accepted_tokens) > 10_000:
                _accepted_tokens.clear()
            _accepted_tokens[digest] = (time.monotonic(), camera)
        return camera


class DeviceKind(models.TextChoices):
    """What a paired browser may do for its one camera."""

    DISPLAY = "display", pgettext_lazy("device kind", "display")  # shows the camera's prompts (the entrance display)
    CAPTURE = "capture", pgettext_lazy("device kind", "capture")  # sends its webcam's frames as the camera


class PairingCode(models.Model):
    """A one-time code that `pair_display` prints; a device trades it for a token at /pair/."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="pairing_codes")
    kind = models.CharField(max_length=16, choices=DeviceKind.choices)
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class PairedDevice(models.Model):
    """A browser allowed to act for exactly one camera, as one kind; its token is stored hashed."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(_("kind"), max_length=16, choices=DeviceKind.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True, default="")
    paired_at = models.DateTimeField(_("paired at"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("paired device")
        verbose_name_plural = _("paired devices")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} · {self.camera}"


class StreamLease(models.Model):
    """Which supervisor reads a pulled camera, until when: renewed every few seconds by its holder;
    once expired any other supervisor may take it (cameras/supervisor.py)."""

    camera = models.OneToOneField(Camera, on_delete=models.CASCADE, related_name="lease", primary_key=True)
    holder = models.CharField(max_length=120)
    expires_at = models.DateTimeField(db_index=True)
    acquired_at = models.DateTimeField()


class StreamSupervisor(models.Model):
    """A running run_cameras (or embedded) supervisor, seen at its last tick: how the fleet is shared."""

    name = models.CharField(max_length=120, primary_key=True)
    hostname = models.CharField(max_length=200, blank=True, default="")
    seen_at = models.DateTimeField(db_index=True)
    cameras = models.PositiveIntegerField(default=0)


class CameraNonce(models.Model):
    """A nonce a signed request used, kept in the database until it expires so that no cache
    eviction lets a replay through (cameras/signing.py)."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=128)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["camera", "nonce"], name="one_use_per_camera_nonce")]
