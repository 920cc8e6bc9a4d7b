from django.urls import path

from cameras import views

urlpatterns = [
    path("pair/", views.pair, name="pair-device"),
]
