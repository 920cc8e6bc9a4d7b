from django.urls import path

from alerts import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert-detail"),
    path("alerts/<int:alert_id>/image/<str:kind>", views.alert_image, name="alert-image"),
]
