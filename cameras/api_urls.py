from django.urls import path

from cameras import api

urlpatterns = [
    path("cameras/", api.CameraList.as_view(), name="api-cameras"),
    path("cameras/<int:camera_id>/", api.CameraDetail.as_view(), name="api-camera"),
    path("cameras/<int:camera_id>/rotate-token", api.CameraRotate.as_view(), name="api-camera-rotate"),
]
