from django.urls import path
from rest_framework.routers import SimpleRouter

from enrollment.api import PhotoFile, PhotoViewSet, SubjectViewSet, WatchlistViewSet

router = SimpleRouter()
router.register("watchlists", WatchlistViewSet, basename="api-watchlist")
router.register("subjects", SubjectViewSet, basename="api-subject")
router.register("photos", PhotoViewSet, basename="api-photo")

urlpatterns = [
    path("photos/<int:pk>/<str:kind>", PhotoFile.as_view(), name="api-enrollment-photo-file"),
    *router.urls,
]
