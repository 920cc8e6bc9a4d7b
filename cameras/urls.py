from django.urls import path

from cameras import views

urlpatterns = [
    path("pair/", views.pair, name="pair-device"),
    path("camera/<int:camera_id>/capture/", views.capture, name="camera-capture"),
]
