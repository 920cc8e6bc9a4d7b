"""REST API for cameras: the cameras of the user's scope with their health, as camera_status prints
them; and, for bank administrators (superusers, or bank security with the `cameras.change_camera`
permission, e.g. an API key made with `create_api_key --admin`), registering, changing, disabling
and rotating the token of their bank's cameras. Every change is audited and reaches the stream
supervisors through the camera's config_version; a new token and signing secret are shown once."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Role, User
from audit.log import record
from bankwatch.api import ErrorSerializer
from cameras.access import cameras_visible_to
from cameras.actions import IssuedCredentials, StreamConfigError, bump_config, configure_stream, rotate_credentials
from cameras.health import serialize_camera, serialize_cameras, status_line
from cameras.models import Camera, covered_false_alarms
from cameras.signing import secret_of
from organizations.models import Branch

# Django's <int:> matches no minus sign: the schema says so, so that generated clients send none.
CAMERA_ID = OpenApiParameter("camera_id", {"type": "integer", "minimum": 0}, OpenApiParameter.PATH)


def can_manage_cameras(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or (user.role == Role.BANK_SECURITY and user.has_perm("cameras.change_camera")))
    )


def cameras_managed_by(user: User) -> QuerySet[Camera]:
    """The cameras a bank administrator may change: their bank's (or branches'); a superuser's, all."""
    if not can_manage_cameras(user):
        return Camera.objects.none()
    return Camera.objects.select_related("branch__bank") if user.is_superuser else cameras_visible_to(user)


def _managed_branch(user: User, branch_id: int) -> Branch:
    branches = Branch.objects.all()
    if not user.is_superuser:
        branches = branches.filter(bank_id=user.bank_id or 0)
        own = list(user.branches.values_list("id", flat=True))
        if own:
            branches = branches.filter(pk__in=own)
    branch = branches.filter(pk=branch_id).first()
    if branch is None:
        raise ValidationError({"branch": "no branch of yours has this id"})
    return branch


class CameraHealthSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    camera_id = serializers.IntegerField()
    name = serializers.CharField()
    bank = serializers.CharField()
    branch = serializers.CharField()
    branch_id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=Camera.Role.choices)
    source = serializers.ChoiceField(choices=Camera.Source.choices)
    enabled = serializers.BooleanField()
    status = serializers.ChoiceField(choices=Camera.Health.choices)
    tampered = serializers.BooleanField()
    since = serializers.DateTimeField(allow_null=True)
    last_seen_at = serializers.DateTimeField(allow_null=True)
    fps_received = serializers.FloatField()
    fps_processed = serializers.FloatField()
    last_error = serializers.CharField(allow_blank=True)
    covered_false_alarms = serializers.IntegerField(
        help_text="the camera's covered-face events a reviewer called a false alarm (its precision in the field)"
    )


class CameraChangeSerializer(serializers.Serializer):
    """What an administrator may set; stream passwords are set in the admin or create_camera, never here."""

    name = serializers.CharField(max_length=200, required=False)
    role = serializers.ChoiceField(choices=Camera.Role.choices, required=False)
    enabled = serializers.BooleanField(required=False, help_text="false: the camera's token is refused from now on")
    fps = serializers.FloatField(required=False, min_value=0.1, max_value=30)
    stream_url = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="rtsp:// or http(s)://, without a password"
    )
    source = serializers.ChoiceField(choices=Camera.Source.choices, required=False)


class CameraCreateSerializer(CameraChangeSerializer):
    branch = serializers.IntegerField(help_text="id of a branch of the administrator's bank")
    name = serializers.CharField(max_length=200)


class IssuedSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="shown once; stored hashed")
    signing_secret = serializers.CharField(help_text="shown once")
    old_token_valid_until = serializers.DateTimeField(allow_null=True)


class RotateSerializer(serializers.Serializer):
    grace_seconds = serializers.IntegerField(min_value=0, default=3600, help_text="how long the old pair still works")


def _issued(issued: IssuedCredentials) -> dict[str, Any]:
    until = issued.old_valid_until
    return {
        "token": issued.token,
        "signing_secret": issued.signing_secret,
        "old_token_valid_until": until.isoformat() if until else None,
    }


def _apply(camera: Camera, data: dict[str, Any]) -> list[str]:
    """Set the validated fields on the instance (the caller saves); the names of those that changed."""
    before = {"name": camera.name, "role": camera.role, "is_active": camera.is_active, "fps": camera.fps}
    camera.name = data.get("name", camera.name)
    camera.role = data.get("role", camera.role)
    camera.is_active = data.get("enabled", camera.is_active)
    try:
        configure_stream(camera, source=data.get("source"), url=data.get("stream_url"), fps=data.get("fps"))
    except StreamConfigError as exc:
        raise ValidationError({"stream_url": str(exc)}) from None
    changed = [name for name, value in before.items() if getattr(camera, name) != value]
    return changed + [name for name in ("stream_url", "source") if name in data]


def _camera_row(camera: Camera) -> dict[str, Any]:
    return serialize_camera(camera) | {
        "covered_false_alarms": Camera.objects.filter(pk=camera.pk)
        .annotate(n=covered_false_alarms())
        .values_list("n", flat=True)
        .first()
        or 0
    }


class CameraList(GenericAPIView):
    serializer_class = CameraHealthSerializer

    def get_queryset(self) -> QuerySet[Camera]:
        cameras = cameras_visible_to(self.request.user).annotate(n_false_alarms=covered_false_alarms())
        return cameras.order_by("branch__name", "name", "id")

    @extend_schema(
        operation_id="v1_cameras_list",
        responses=inline_serializer(
            "CameraPage",
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": CameraHealthSerializer(many=True),
                "summary": inline_serializer(
                    "CameraSummary",
                    {name: serializers.IntegerField() for name in ("cameras", "online", "offline", "tampered")},
                ),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        """Every camera of the user's scope with its health; never a credential. `summary` covers all pages."""
        cameras = self.get_queryset()
        page = self.paginate_queryset(cameras)
        assert page is not None
        rows = [
            row | {"covered_false_alarms": camera.n_false_alarms}
            for camera, row in zip(page, serialize_cameras(page), strict=True)
        ]
        response = self.get_paginated_response(rows)
        every: list[dict[str, Any]] = [{"status": status} for status in cameras.values_list("health", flat=True)]
        response.data["summary"] = status_line(every)
        return response

    @extend_schema(
        operation_id="v1_cameras_create",
        request=CameraCreateSerializer,
        responses={
            201: inline_serializer("CameraCreated", {"camera": CameraHealthSerializer(), **IssuedSerializer().fields}),
            400: ErrorSerializer,
            403: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        """Register a camera at a branch of the administrator's bank: its token and signing secret, shown once."""
        if not can_manage_cameras(request.user):
            raise PermissionDenied("only the bank's administrators may register cameras")
        body = CameraCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        camera = Camera(branch=_managed_branch(request.user, data.pop("branch")))
        changed = _apply(camera, data)
        try:
            with transaction.atomic():
                token = camera.issue_credentials()
                camera.save()
                record("camera.created", camera, request=request, fields=changed)
        except IntegrityError:
            raise ValidationError({"name": "this branch has a camera of that name"}) from None
        issued = IssuedCredentials(token, secret_of(camera), None)
        return Response({"camera": _camera_row(camera), **_issued(issued)}, status=status.HTTP_201_CREATED)


def _in_reach(user: User) -> QuerySet[Camera]:
    return cameras_visible_to(user) | cameras_managed_by(user)


def _managed_camera(user: User, camera_id: int) -> Camera:
    camera = get_object_or_404(_in_reach(user), pk=camera_id)  # outside the scope: 404, as for reads
    if not cameras_managed_by(user).filter(pk=camera.pk).exists():
        raise PermissionDenied("only the bank's administrators may change cameras")
    return camera


class CameraDetail(GenericAPIView):
    serializer_class = CameraHealthSerializer

    def get_queryset(self) -> QuerySet[Camera]:
        return _in_reach(self.request.user)

    @extend_schema(operation_id="v1_cameras_retrieve", parameters=[CAMERA_ID], responses={200: CameraHealthSerializer, 404: ErrorSerializer})
    def get(self, request: Request, camera_id: int) -> Response:
        """One camera of the user's scope with its health; never a credential."""
        return Response(_camera_row(get_object_or_404(self.get_queryset(), pk=camera_id)))

    @extend_schema(
        operation_id="v1_cameras_partial_update",
        parameters=[CAMERA_ID],
        request=CameraChangeSerializer,
        responses={200: CameraHealthSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def patch(self, request: Request, camera_id: int) -> Response:
        """Rename, change role, frame rate or stream, enable or disable (`"enabled": false`) a camera."""
        camera = _managed_camera(request.user, camera_id)
        body = CameraChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changed = _apply(camera, dict(body.validated_data))
        try:
            with transaction.atomic():
                camera.save()
                bump_config(camera.pk)  # running supervisors pick the change up within seconds
                record("camera.changed", camera, request=request, fields=changed)
        except IntegrityError:
            raise ValidationError({"name": "this branch has a camera of that name"}) from None
        return Response(_camera_row(camera))


class CameraRotate(GenericAPIView):
    serializer_class = RotateSerializer

    @extend_schema(
        operation_id="v1_cameras_rotate_token",
        parameters=[CAMERA_ID],
        request=RotateSerializer,
        responses={200: IssuedSerializer, 403: ErrorSerializer, 404: OpenApiResponse(ErrorSerializer)},
    )
    def post(self, request: Request, camera_id: int) -> Response:
        """A new token and signing secret, shown once; the old pair works `grace_seconds` more (0: revoked now)."""
        camera = _managed_camera(request.user, camera_id)
        body = RotateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = rotate_credentials(camera, grace_seconds=body.validated_data["grace_seconds"], request=request)
        return Response(_issued(issued))
