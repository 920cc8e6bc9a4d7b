"""Frames in: the one place a frame is checked, stored and queued for recognition.

`store_frame` is called by the frame API (`POST /api/v1/frames`), `replay_video` and
`watch_camera` alike. The view below authenticates the camera (token, and the request
signature when there is one), then hands the bytes over.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException, AuthenticationFailed, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.models import Frame
from bankwatch.jobs import enqueue
from cameras import signing
from cameras.models import Camera
from recognition.images import InvalidImage, decode_image, encode_jpeg

logger = logging.getLogger(__name__)

# Room for the multipart envelope and the captured_at field around the image itself.
MULTIPART_OVERHEAD = 64 * 1024


class QueueUnavailable(APIException):
    status_code = 503
    default_detail = "the job queue is unreachable; send the frame again shortly"
    default_code = "queue_unavailable"


def store_frame(camera: Camera, data: bytes, captured_at: datetime | None = None) -> Frame:
    """Check the image, store it and queue its recognition job; raises InvalidImage (with an HTTP status).

    The check decodes a JPEG at 1/8 scale, which is enough to catch wrong types, bombs
    and truncated files at a fraction of a full decode; the job decodes it once, properly.
    """
    decode_image(data, max_side=64)
    now = timezone.now()
    extension = "png" if data[:4] == b"\x89PNG" else "jpg"
    frame = Frame(camera=camera, captured_at=captured_at or now)
    frame.image.save(f"c{camera.pk}.{extension}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            frame.save()
            Camera.objects.filter(pk=camera.pk).update(last_seen_at=now)
    except Exception:
        frame.image.delete(save=False)
        raise
    try:
        enqueue("alerts.process_frame", frame.pk)  # after the caller's transaction, if there is one
    except Exception as exc:
        # The broker is unreachable: keep nothing half-written; the camera sends the frame again later.
        logger.warning("frame not queued, job queue unreachable: %s", exc.__class__.__name__)
        frame.delete()
        frame.image.delete(save=False)
        raise QueueUnavailable() from None
    return frame


def store_pixels(camera: Camera, bgr: np.ndarray, captured_at: datetime | None = None) -> Frame:
    """A frame read from a stream or video (replay_video, watch_camera): JPEG-encoded, then as any upload."""
    return store_frame(camera, encode_jpeg(bgr, quality=90), captured_at)


@dataclass(frozen=True)
class CameraCredentials:
    camera: Camera
    token: str


class CameraTokenAuthentication(BaseAuthentication):
    """`Authorization: Camera <token>`; the token is compared by its hash (Camera.authenticate)."""

    def authenticate(self, request: Request) -> tuple[Any, CameraCredentials] | None:
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "camera":
            return None
        camera = Camera.authenticate(token.strip())
        if camera is None:
            raise AuthenticationFailed("unknown or disabled camera token")
        return AnonymousUser(), CameraCredentials(camera, token.strip())

    def authenticate_header(self, request: Request) -> str:
        return 'Camera realm="bankwatch"'


class CameraTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the OpenAPI schema describes camera authentication."""

    target_class = "alerts.ingest.CameraTokenAuthentication"
    name = "cameraToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Camera <token>"}


class IsCamera(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, CameraCredentials)


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "request body too large"


class FrameUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG or PNG")
    captured_at = serializers.DateTimeField(required=False, help_text="ISO 8601; default: when received")

    def validate_captured_at(self, value: datetime) -> datetime:
        if value > timezone.now() + timedelta(seconds=settings.SIGNATURE_MAX_SKEW_SECONDS):
            raise serializers.ValidationError("captured_at lies in the future")
        return value


def _check_signature(request: Request, credentials: CameraCredentials) -> None:
    meta = request.META
    if not signing.is_signed(meta) and not settings.REQUIRE_SIGNED_FRAMES:
        return
    django_request = request._request
    try:
        signing.verify(
            credentials.camera.pk, credentials.token, request.method or "", request.path, meta, django_request.body
        )
    except signing.SignatureError as exc:
        raise PermissionDenied(str(exc)) from None


class FrameUploadView(APIView):
    authentication_classes = [CameraTokenAuthentication]
    permission_classes = [IsCamera]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request=FrameUploadSerializer,
        responses={
            202: inline_serializer("FrameAccepted", {"frame_id": serializers.IntegerField()}),
            400: OpenApiResponse(description="missing or unreadable image or field"),
            401: OpenApiResponse(description="missing or wrong camera token"),
            403: OpenApiResponse(description="bad, stale or replayed request signature"),
            413: OpenApiResponse(description="too many bytes or pixels"),
            415: OpenApiResponse(description="not JPEG or PNG"),
        },
    )
    def post(self, request: Request) -> Response:
        """Push one camera frame for recognition. Answers once it is stored and queued."""
        credentials: CameraCredentials = request.auth  # type: ignore[assignment]
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
            raise PayloadTooLarge(f"the limit is {settings.MAX_UPLOAD_BYTES} bytes per image")
        _check_signature(request, credentials)
        upload = FrameUploadSerializer(data=request.data)
        if not upload.is_valid():
            return Response({"error": "invalid upload", "fields": upload.errors}, status=400)
        image = upload.validated_data["image"]
        if image.size > settings.MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(f"image is {image.size} bytes; the limit is {settings.MAX_UPLOAD_BYTES}")
        try:
            frame = store_frame(credentials.camera, image.read(), upload.validated_data.get("captured_at"))
        except InvalidImage as exc:
            return Response({"error": str(exc)}, status=exc.status)
        except QueueUnavailable as exc:
            return Response({"error": str(exc.detail)}, status=503, headers={"Retry-After": "5"})
        return Response({"frame_id": frame.pk}, status=202)
