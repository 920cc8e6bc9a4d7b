"""REST API for camera health: the cameras of the user's scope, as camera_status prints them."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from cameras.access import cameras_visible_to
from cameras.health import serialize_camera, status_line
from cameras.models import Camera, covered_false_alarms


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
        rows = [serialize_camera(camera) | {"covered_false_alarms": camera.n_false_alarms} for camera in page]
        response = self.get_paginated_response(rows)
        every: list[dict[str, Any]] = [{"status": status} for status in cameras.values_list("health", flat=True)]
        response.data["summary"] = status_line(every)
        return response
