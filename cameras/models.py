import hashlib
import secrets
from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Branch


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Camera(models.Model):
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="cameras")
    name = models.CharField(_("name"), max_length=200)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # During rotation the previous token keeps working until this moment.
    previous_token_hash = models.CharField(max_length=64, blank=True, default="", editable=False, db_index=True)
    previous_token_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["branch", "name"], name="unique_camera_per_branch")]

    def __str__(self) -> str:
        return f"{self.branch} / {self.name}"

    def issue_token(self, keep_previous_for_seconds: int = 0) -> str:
        """Give the camera a new token; only its hash is stored. Returns the token once."""
        token = f"bw_{secrets.token_urlsafe(32)}"
        if keep_previous_for_seconds and self.token_hash:
            self.previous_token_hash = self.token_hash
            self.previous_token_valid_until = timezone.now() + timedelta(seconds=keep_previous_for_seconds)
        else:
            self.previous_token_hash = ""
            self.previous_token_valid_until = None
        self.token_hash = hash_token(token)
        return token

    @classmethod
    def authenticate(cls, token: str) -> "Camera | None":
        if not token:
            return None
        digest = hash_token(token)
        camera = cls.objects.select_related("branch__bank").filter(token_hash=digest, is_active=True).first()
        if camera is not None:
            return camera
        return (
            cls.objects.select_related("branch__bank")
            .filter(
                previous_token_hash=digest,
                previous_token_valid_until__gt=timezone.now(),
                is_active=True,
            )
            .first()
        )
