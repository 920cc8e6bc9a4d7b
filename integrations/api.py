"""The webhook delivery log for a bank's administrators (superusers, or bank security / police with
`integrations.change_webhook`, e.g. a key made with `create_api_key --admin`): their webhooks, each
one's deliveries with every attempt (status code, response time, error), and replay."""

from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Role, User
from bankwatch.api import ErrorSerializer
from integrations.actions import replay_delivery
from integrations.models import Webhook, WebhookAttempt, WebhookDelivery

ID = {"type": "integer", "minimum": 0}


def webhooks_managed_by(user: Any) -> QuerySet[Webhook]:
    hooks = Webhook.objects.select_related("bank")
    if not (user.is_authenticated and user.is_active):
        return hooks.none()
    if user.is_superuser:
        return hooks
    if not user.has_perm("integrations.change_webhook"):
        return hooks.none()
    if user.role == Role.BANK_SECURITY and user.bank_id:
        return hooks.filter(bank_id=user.bank_id)
    if user.role == Role.POLICE and user.jurisdiction:
        return hooks.filter(Q(bank__isnull=True) & Q(jurisdiction__iexact=user.jurisdiction.strip()))
    return hooks.none()


def _refuse_outsiders(user: User) -> None:
    if not (user.is_superuser or user.has_perm("integrations.change_webhook")):
        raise PermissionDenied("only the bank's administrators may read the webhook log")


class WebhookSerializer(serializers.ModelSerializer):
    bank = serializers.CharField(source="bank.name", allow_null=True, default=None)

    class Meta:
        model = Webhook
        fields = ["id", "bank", "jurisdiction", "url", "events", "is_active", "created_at"]  # never the secret


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "at", "status_code", "response_ms", "error"]


class DeliverySerializer(serializers.ModelSerializer):
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_response_ms",
            "last_error",
            "created_at",
            "delivered_at",
            "payload",
            "attempt_log",
        ]


class WebhookList(ListAPIView):
    serializer_class = WebhookSerializer

    def get_queryset(self) -> QuerySet[Webhook]:
        _refuse_outsiders(self.request.user)
        return webhooks_managed_by(self.request.user).order_by("id")


class DeliveryList(ListAPIView):
    serializer_class = DeliverySerializer

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        _refuse_outsiders(self.request.user)
        webhook = get_object_or_404(webhooks_managed_by(self.request.user), pk=self.kwargs["webhook_id"])
        return webhook.deliveries.prefetch_related("attempt_log").order_by("-created_at", "-id")

    @extend_schema(parameters=[OpenApiParameter("webhook_id", ID, OpenApiParameter.PATH)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A webhook's deliveries, newest first, each with its attempts."""
        return super().get(request, *args, **kwargs)


class DeliveryReplay(GenericAPIView):
    serializer_class = DeliverySerializer

    @extend_schema(
        operation_id="v1_webhook_deliveries_replay",
        request=None,
        parameters=[OpenApiParameter("delivery_id", ID, OpenApiParameter.PATH)],
        responses={202: DeliverySerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, delivery_id: int) -> Response:
        """Send a logged event again, as a new delivery (signed anew; the event keeps its id)."""
        _refuse_outsiders(request.user)
        delivery = get_object_or_404(
            WebhookDelivery.objects.filter(webhook__in=webhooks_managed_by(request.user)), pk=delivery_id
        )
        again = replay_delivery(delivery, request.user, request=request)
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)
