from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest

from audit.log import record
from cameras.credentials import StreamCredentials, decrypt, encrypt, split_url
from cameras.models import Camera
from cameras.signing import secret_of
from organizations.actions import get_or_create_branch


class StreamConfigError(ValueError):
    """A stream setting that cannot work; the message says which (and never holds a password)."""


SCHEMES = {
    Camera.Source.RTSP: ("rtsp", "rtsps"),
    Camera.Source.HTTP_MJPEG: ("http", "https"),
    Camera.Source.SNAPSHOT: ("http", "https"),
}


def source_for_url(url: str) -> str:
    """The source a URL implies when none is given: rtsp:// is a stream, http(s):// a snapshot URL."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in SCHEMES[Camera.Source.RTSP]:
        return Camera.Source.RTSP
    if scheme in ("http", "https"):
        return Camera.Source.SNAPSHOT
    raise StreamConfigError("the stream URL must start with rtsp://, http:// or https://")


def configure_stream(  # noqa: C901 - one check per stream setting, in the order the admin shows them
    camera: Camera,
    *,
    source: str | None = None,
    url: str | None = None,
    username: str | None = None,
    password: str | None = None,
    auth: str | None = None,
    fps: float | None = None,
) -> None:
    """Set a camera's stream settings on the instance (the caller saves). A user name or password
    inside the URL is moved into the encrypted field; None leaves a setting as it is."""
    if url is not None:
        clean, in_url = split_url(url)
        camera.stream_url = clean
        if in_url:
            username = in_url.username if username is None else username
            password = in_url.password if password is None else password
        if source is None and clean:
            source = source_for_url(clean)
    if source is not None:
        if source not in Camera.Source.values:
            raise StreamConfigError(f"unknown source {source!r}")
        camera.source = source
    if camera.source != Camera.Source.PUSH:
        if not camera.stream_url:
            raise StreamConfigError(f"a {camera.source} camera needs a stream URL")
        scheme = camera.stream_url.split("://", 1)[0].lower()
        allowed = SCHEMES[Camera.Source(camera.source)]
        if scheme not in allowed:
            raise StreamConfigError(f"a {camera.source} URL must start with {' or '.join(allowed)}://")
    if auth is not None:
        if auth not in Camera.Auth.values:
            raise StreamConfigError(f"unknown authentication {auth!r}")
        camera.stream_auth = auth
    if username is not None or password is not None:
        current = camera_credentials(camera)
        camera.stream_credentials = encrypt(
            StreamCredentials(
                current.username if username is None else username, current.password if password is None else password
            )
        )
    if fps is not None:
        if not 0.1 <= fps <= 30:
            raise StreamConfigError("fps must be between 0.1 and 30")
        camera.fps = fps


def camera_credentials(camera: Camera) -> StreamCredentials:
    return decrypt(camera.stream_credentials)


def bump_config(camera_id: int) -> None:
    """Tell the supervisors a camera's settings changed (they compare config_version)."""
    Camera.objects.filter(pk=camera_id).update(config_version=F("config_version") + 1)


@transaction.atomic
def create_camera(
    bank_name: str,
    branch_name: str,
    name: str,
    role: str = Camera.Role.OTHER,
    *,
    stream_url: str = "",
    source: str | None = None,
    username: str | None = None,
    password: str | None = None,
    auth: str | None = None,
    fps: float | None = None,
    jurisdiction: str = "",
) -> tuple[Camera, str]:
    """Register a camera (creating its bank, with `jurisdiction`, and branch when missing); returns it and its token."""
    camera = Camera(
        branch=get_or_create_branch(bank_name, branch_name, jurisdiction),
        name=name,
        role=role,
        fps=fps or settings.CAMERA_FPS,
    )
    if stream_url or source:
        configure_stream(
            camera, source=source, url=stream_url or None, username=username, password=password, auth=auth, fps=fps
        )
    token = camera.issue_credentials()
    camera.save()
    return camera, token


@dataclass(frozen=True)
class IssuedCredentials:
    """What a camera is given, shown once: its token and signing secret; until when the old pair works."""

    token: str
    signing_secret: str
    old_valid_until: datetime | None

    def __repr__(self) -> str:  # never the secrets, whoever prints it
        return f"IssuedCredentials(token='***', signing_secret='***', old_valid_until={self.old_valid_until!r})"


@transaction.atomic
def rotate_credentials(
    camera: Camera,
    grace_seconds: int = 3600,
    *,
    actor: Any = None,
    actor_label: str = "",
    request: HttpRequest | None = None,
) -> IssuedCredentials:
    """A new token and signing secret for a camera, audited (never their values); the old pair keeps
    working for grace_seconds so the camera can be reconfigured without dropping a frame."""
    camera = Camera.objects.select_for_update().get(pk=camera.pk)
    token = camera.issue_credentials(keep_previous_for_seconds=grace_seconds)
    camera.save(
        update_fields=[
            "token_hash",
            "previous_token_hash",
            "previous_token_valid_until",
            "signing_secret",
            "previous_signing_secret",
        ]
    )
    record(
        "camera.token_rotated",
        camera,
        actor=actor,
        actor_label=actor_label,
        request=request,
        grace_seconds=grace_seconds,
    )
    return IssuedCredentials(token, secret_of(camera), camera.previous_token_valid_until)
