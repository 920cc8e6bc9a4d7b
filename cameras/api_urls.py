from django.urls import path

from cameras import api

urlpatterns = [
    path("cameras/", api.CameraList.as_view(), name="api-cameras"),
]
