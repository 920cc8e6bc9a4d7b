from django.urls import path

from alerts import api

urlpatterns = [
    path("frames", api.FrameUploadView.as_view(), name="api-frames"),
    path("alerts/", api.AlertList.as_view(), name="api-alerts"),
    path("alerts/<int:alert_id>/", api.AlertDetail.as_view(), name="api-alert"),
    path("alerts/<int:alert_id>/review", api.AlertReview.as_view(), name="api-alert-review"),
    path("alerts/<int:alert_id>/images/<str:kind>", api.AlertImage.as_view(), name="api-alert-image"),
]
