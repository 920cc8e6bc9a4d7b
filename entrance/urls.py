from django.urls import path

from entrance import views

urlpatterns = [
    # Named as cameras.devices.DEVICE_PAGES expects: a display lands here once paired.
    path("entrance/<int:camera_id>/", views.display, name="camera-display"),
]
