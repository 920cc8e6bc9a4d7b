"""REST API for alerts: list (scoped, filterable, paginated), detail, and the review action.

Every read goes through alerts_visible_to and is audited; the review calls the same
review_alert as the page, so a stale `version` answers 409 with a clear message.
"""

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from alerts.access import alerts_visible_to, filter_alerts
from alerts.feed import serialize_alert
from alerts.models import Alert
from alerts.review import ALL_ACTIONS, ReviewError, review_alert
from audit.log import record


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


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()


FILTERS = [
    OpenApiParameter("status", str, many=True, description="one or more statuses (repeat or comma-separate)"),
    OpenApiParameter("branch", int),
    OpenApiParameter("watchlist", int),
    OpenApiParameter("bank", int),
    OpenApiParameter("subject", int),
]


class Pages(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class AlertList(GenericAPIView):
    serializer_class = AlertSerializer
    pagination_class = Pages

    def get_queryset(self):  # type: ignore[no-untyped-def]
        params = self.request.query_params
        statuses = [s for value in params.getlist("status") for s in value.split(",") if s]
        return filter_alerts(alerts_visible_to(self.request.user), statuses, params)  # type: ignore[arg-type]

    @extend_schema(operation_id="v1_alerts_list", parameters=FILTERS, responses=AlertSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        record("alerts.listed", None, request=request._request, ids=[a.pk for a in page], via="api")
        return self.get_paginated_response(AlertSerializer(page, many=True).data)


class AlertDetail(GenericAPIView):
    serializer_class = AlertSerializer

    @extend_schema(responses={200: AlertSerializer, 404: ErrorSerializer})
    def get(self, request: Request, alert_id: int) -> Response:
        alert = get_object_or_404(alerts_visible_to(request.user), pk=alert_id)  # type: ignore[arg-type]
        record("alert.viewed", alert, request=request._request, via="api")
        return Response(AlertSerializer(alert).data)


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
        alert = get_object_or_404(alerts_visible_to(request.user), pk=alert_id)  # type: ignore[arg-type]
        body = ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            alert = review_alert(
                alert,
                request.user,  # type: ignore[arg-type]
                data["action"],
                reason=data.get("reason", ""),
                note=data.get("note", ""),
                version=data["version"],
                request=request._request,
            )
        except ReviewError as exc:
            return Response({"error": str(exc)}, status=exc.status)
        return Response(AlertSerializer(alert).data)


urlpatterns = [
    path("alerts/", AlertList.as_view(), name="api-alerts"),
    path("alerts/<int:alert_id>/", AlertDetail.as_view(), name="api-alert"),
    path("alerts/<int:alert_id>/review", AlertReview.as_view(), name="api-alert-review"),
]
