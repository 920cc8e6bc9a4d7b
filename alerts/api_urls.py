from django.urls import path

from alerts.ingest import FrameUploadView

urlpatterns = [
    path("frames", FrameUploadView.as_view(), name="api-frames"),
]
