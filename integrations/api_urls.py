from django.urls import path

from integrations import api

urlpatterns = [
    path("webhooks/", api.WebhookList.as_view(), name="api-webhooks"),
    path("webhooks/<int:webhook_id>/deliveries/", api.DeliveryList.as_view(), name="api-webhook-deliveries"),
    path("webhook-deliveries/<int:delivery_id>/replay", api.DeliveryReplay.as_view(), name="api-webhook-replay"),
]
