"""The REST API of the alerts app: the frame upload cameras push to, and alerts (list, detail, review).

`POST /api/v1/frames` authenticates the camera (token, and the request signature when there
is one), then hands the bytes to alerts.ingest.store_frame. Every read of alerts goes through
alerts_visible_to and is audited; the review calls the same review_alert as the page, so a
stale `version` answers 409 with a clear message. URLs: alerts/api_urls.py.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.exceptions import APIException, AuthenticationFailed, PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.access import alerts_visible_to, filter_alerts
from alerts.actions import ALL_ACTIONS, ReviewError, review_alert
from alerts.feed import for_listing, serialize_alert
from alerts.ingest import QueueUnavailableError, store_frame
from alerts.models import Alert
from audit.log import record
from bankwatch.api import ErrorSerializer
from bankwatch.biometrics import serve_biometric
from cameras import ratelimit, signing
from cameras.devices import device_from_request
from cameras.models import Camera, DeviceKind, PairedDevice
from recognition.images import InvalidImageError

# --- Frames from cameras ---------------------------------------------------

# Room for the multipart envelope and the captured_at field around the image itself.
MULTIPART_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class CameraCredentials:
    camera: Camera


class CameraTokenAuthentication(BaseAuthentication):
    """`Authorization: Camera <token>`; the token is compared by its hash (Camera.authenticate)."""

    def authenticate(self, request: Request) -> tuple[Any, CameraCredentials] | None:
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "camera":
            return None
        camera = Camera.authenticate(token.strip())
        if camera is None:
            raise AuthenticationFailed("unknown or disabled camera token")
        return AnonymousUser(), CameraCredentials(camera)

    def authenticate_header(self, request: Request) -> str:
        return 'Camera realm="bankwatch"'


@dataclass(frozen=True)
class DeviceCredentials:
    camera: Camera
    device: PairedDevice


class CaptureDeviceAuthentication(BaseAuthentication):
    """A browser paired as a camera's capture device (`pair_display ID --capture`, cameras/devices.py):
    its HttpOnly device cookie for the camera named in `X-BankWatch-Camera`, and Django's CSRF check,
    since a cookie travels by itself. Such a browser cannot sign requests (it never sees its token)."""

    def authenticate(self, request: Request) -> tuple[Any, DeviceCredentials] | None:
        camera_id = request.META.get("HTTP_X_BANKWATCH_CAMERA", "")
        if not camera_id.isdigit():
            return None
        device = device_from_request(request, int(camera_id), DeviceKind.CAPTURE)
        if device is None:
            raise AuthenticationFailed("this browser is not paired as that camera's capture device")
        check = CSRFCheck(lambda request: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise PermissionDenied(f"CSRF failed: {reason}")
        return AnonymousUser(), DeviceCredentials(device.camera, device)


class CameraTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes camera authentication."""

    target_class = "alerts.api.CameraTokenAuthentication"
    name = "cameraToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Camera <token>"}


class CaptureDeviceScheme(OpenApiAuthenticationExtension):
    target_class = "alerts.api.CaptureDeviceAuthentication"
    name = "captureDevice"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "X-BankWatch-Camera", "description": "paired browser"}


class IsCamera(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, CameraCredentials | DeviceCredentials)


class PayloadTooLargeError(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "request body too large"


class FrameUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG or PNG")
    captured_at = serializers.DateTimeField(required=False, help_text="ISO 8601; default: when received")

    def validate_captured_at(self, value: datetime) -> datetime:
        # It becomes the sighting time in evidence: it must lie near the time of receipt.
        skew = settings.SIGNATURE_MAX_SKEW_SECONDS
        if abs((value - timezone.now()).total_seconds()) > skew:
            raise serializers.ValidationError(f"captured_at lies more than {skew} s from the time of receipt")
        return value


def _check_signature(request: Request, credentials: CameraCredentials) -> None:
    meta = request.META
    try:
        if not signing.is_signed(meta):
            signing.check_unsigned(credentials.camera)
            return
        signing.verify(credentials.camera, request.method or "", request.path, meta, request.body)
    except signing.SignatureError as exc:
        raise PermissionDenied(str(exc)) from None


class FrameUploadView(APIView):
    authentication_classes = [CameraTokenAuthentication, CaptureDeviceAuthentication]
    permission_classes = [IsCamera]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request=FrameUploadSerializer,
        responses={
            202: inline_serializer(
                "FrameAccepted", {"frame_id": serializers.IntegerField(), "analysed": serializers.BooleanField()}
            ),
            400: OpenApiResponse(description="missing or unreadable image or field"),
            401: OpenApiResponse(description="missing or wrong camera token"),
            403: OpenApiResponse(description="bad, stale or replayed request signature"),
            413: OpenApiResponse(description="too many bytes or pixels"),
            415: OpenApiResponse(description="not JPEG or PNG"),
            429: OpenApiResponse(description="this camera's frame rate limit; see Retry-After"),
        },
    )
    def post(self, request: Request) -> Response:
        """Push one camera frame for recognition. Answers once it is stored and queued."""
        credentials: CameraCredentials | DeviceCredentials = request.auth
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
            raise PayloadTooLargeError(f"the limit is {settings.MAX_UPLOAD_BYTES} bytes per image")
        if isinstance(credentials, CameraCredentials):
            _check_signature(request, credentials)
        upload = FrameUploadSerializer(data=request.data)
        if not upload.is_valid():
            return Response({"error": "invalid upload", "fields": upload.errors}, status=400)
        image = upload.validated_data["image"]
        if image.size > settings.MAX_UPLOAD_BYTES:
            raise PayloadTooLargeError(f"image is {image.size} bytes; the limit is {settings.MAX_UPLOAD_BYTES}")
        retry_after = ratelimit.admit(credentials.camera.pk)
        if retry_after is not None:
            return Response(
                {"error": "this camera sends frames faster than it may; send fewer"},
                status=429,
                headers={"Retry-After": str(retry_after)},
            )
        try:
            frame = store_frame(credentials.camera, image.read(), upload.validated_data.get("captured_at"))
        except InvalidImageError as exc:
            return Response({"error": str(exc)}, status=exc.status)
        except QueueUnavailableError as exc:
            return Response({"error": str(exc)}, status=503, headers={"Retry-After": "5"})
        return Response({"frame_id": frame.pk, "analysed": not frame.gated}, status=202)


# --- Alerts -----------------------------------------------------------------


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class WatchlistRefSerializer(RefSerializer):
    colour = serializers.CharField()
    sound = serializers.CharField()
    requires_acknowledgement = serializers.BooleanField()


class CameraRefSerializer(RefSerializer):
    false_alarms = serializers.IntegerField(
        required=False, help_text="covered-face events only: the camera's events a reviewer called a false alarm"
    )


class CoveringSerializer(serializers.Serializer):
    labels = serializers.ListField(
        child=serializers.CharField(), help_text="mask, helmet, sunglasses, hood; face_hidden: no face visible"
    )
    scores = serializers.DictField(child=serializers.FloatField(), help_text="each label's confidence, 0..1")


class ImagesSerializer(serializers.Serializer):
    probe = serializers.CharField(allow_null=True)
    frame = serializers.CharField(allow_null=True)


class AlertSerializer(serializers.Serializer):
    """How an alert looks in the API, on the socket and in evidence: alerts.feed.serialize_alert."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=Alert.Kind.choices, help_text="covered: a covered face at the door, naming no one"
    )
    status = serializers.ChoiceField(choices=Alert.Status.choices)
    dismiss_reason = serializers.CharField(allow_blank=True)
    response = serializers.CharField(allow_blank=True, help_text="covered: asked_to_uncover or security_called")
    subject = RefSerializer(allow_null=True, help_text="null for a covered-face event")
    watchlist = WatchlistRefSerializer(allow_null=True, help_text="null for a covered-face event")
    covering = CoveringSerializer(
        allow_null=True, help_text="what covered the face: a covered-face event, or a match made on a covered face"
    )
    camera = CameraRefSerializer()
    branch = RefSerializer()
    bank = RefSerializer()
    score = serializers.FloatField(allow_null=True, help_text="null for a covered-face event")
    threshold = serializers.FloatField(allow_null=True, help_text="null for a covered-face event")
    sightings = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    version = serializers.IntegerField(help_text="send it back with a review; a stale one answers 409")
    images = ImagesSerializer()
    url = serializers.CharField()

    def to_representation(self, instance: Alert) -> dict[str, Any]:
        return serialize_alert(instance)


class ReviewSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ALL_ACTIONS)
    reason = serializers.ChoiceField(choices=Alert.DismissReason.choices, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    version = serializers.IntegerField(min_value=1)


FILTERS = [
    OpenApiParameter("status", str, many=True, description="one or more statuses (repeat or comma-separate)"),
    OpenApiParameter("branch", int),
    OpenApiParameter("watchlist", int),
    OpenApiParameter("bank", int),
    OpenApiParameter("subject", int),
]


class AlertList(GenericAPIView):
    serializer_class = AlertSerializer

    def get_queryset(self) -> QuerySet[Alert]:
        params = self.request.query_params
        statuses = [s for value in params.getlist("status") for s in value.split(",") if s]
        return for_listing(filter_alerts(alerts_visible_to(self.request.user), statuses, params))

    @extend_schema(operation_id="v1_alerts_list", parameters=FILTERS, responses=AlertSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        record("alerts.listed", None, request=request, ids=[a.pk for a in page], via="api")
        return self.get_paginated_response(AlertSerializer(page, many=True).data)


class AlertDetail(GenericAPIView):
    serializer_class = AlertSerializer

    @extend_schema(responses={200: AlertSerializer, 404: ErrorSerializer})
    def get(self, request: Request, alert_id: int) -> Response:
        alert = get_object_or_404(alerts_visible_to(request.user), pk=alert_id)
        record("alert.viewed", alert, request=request, via="api")
        return Response(AlertSerializer(alert).data)


ALERT_IMAGES = ("probe", "frame")


class AlertImage(APIView):
    """An alert's face crop or evidence frame for integrators (the links webhook and MQTT events carry):
    the same scope, audit entry and headers as the review page's images (bankwatch/biometrics.py)."""

    @extend_schema(
        operation_id="v1_alerts_image",
        parameters=[
            OpenApiParameter("alert_id", {"type": "integer", "minimum": 0}, OpenApiParameter.PATH),
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=ALERT_IMAGES),
        ],
        responses={(200, "image/jpeg"): OpenApiResponse(description="JPEG"), 404: ErrorSerializer},
    )
    def get(self, request: Request, alert_id: int, kind: str) -> FileResponse:
        def pick(alert: Alert) -> Any:
            if kind not in ALERT_IMAGES:
                raise Http404("no such image")
            return alert.probe_crop if kind == "probe" else alert.evidence_frame

        return serve_biometric(
            request, alerts_visible_to(request.user), alert_id, pick, "alert.image_viewed", image=kind, via="api"
        )


class AlertReview(GenericAPIView):
    serializer_class = ReviewSerializer

    @extend_schema(
        request=ReviewSerializer,
        responses={200: AlertSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 409: ErrorSerializer},
        description="Move an alert: start_review, confirm, dismiss (reason required) or escalate; a covered-face "
        "event: start_review, asked_to_uncover, security_called, false_alarm or escalate. "
        "`version` is the one you read; if someone changed the alert since, the answer is 409.",
    )
    def post(self, request: Request, alert_id: int) -> Response:
        alert = get_object_or_404(alerts_visible_to(request.user), pk=alert_id)
        body = ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            alert = review_alert(
                alert,
                request.user,
                data["action"],
                reason=data.get("reason", ""),
                note=data.get("note", ""),
                version=data["version"],
                request=request,
            )
        except ReviewError as exc:
            return Response({"error": str(exc)}, status=exc.status)
        return Response(AlertSerializer(alert).data)
