from django.urls import path

from alerts.consumers import AlertFeedConsumer
from entrance.consumers import EntranceDisplayConsumer

websocket_urlpatterns = [
    path("ws/alerts/", AlertFeedConsumer.as_asgi()),
    path("ws/entrance/<int:camera_id>/", EntranceDisplayConsumer.as_asgi()),
]
