from django.urls import path

from cases import views

urlpatterns = [
    path("police/", views.inbox, name="police-inbox"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<int:case_id>/notes", views.case_note, name="case-note"),
    path("cases/<int:case_id>/close", views.case_close, name="case-close"),
    path("cases/<int:case_id>/export", views.case_export, name="case-export"),
    path("cases/<int:case_id>/release-hold", views.case_release_hold, name="case-release-hold"),
    path("alerts/<int:alert_id>/open-case", views.case_open, name="case-open"),
]
