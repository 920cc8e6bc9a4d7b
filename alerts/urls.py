from django.urls import path

from alerts import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert-detail"),
    path("alerts/<int:alert_id>/review", views.alert_review, name="alert-review"),
    path("alerts/<int:alert_id>/image/<str:kind>", views.alert_image, name="alert-image"),
    path(
        "alerts/<int:alert_id>/sightings/<int:sighting_id>/<str:kind>",
        views.sighting_image,
        name="sighting-image",
    ),
    path("alerts/<int:alert_id>/reference/<int:photo_id>", views.reference_photo, name="reference-photo"),
    path("alerts/sound/mute", views.sound_mute, name="sound-mute"),
    path("account/language", views.choose_language, name="choose-language"),
]
