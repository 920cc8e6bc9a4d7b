from django.urls import path

from cases import api

urlpatterns = [
    path("cases/", api.CaseList.as_view(), name="api-cases"),
    path("cases/<int:case_id>/", api.CaseDetail.as_view(), name="api-case"),
    path("cases/<int:case_id>/notes", api.CaseNotes.as_view(), name="api-case-notes"),
    path("cases/<int:case_id>/close", api.CaseClose.as_view(), name="api-case-close"),
    path("cases/<int:case_id>/export", api.CaseExport.as_view(), name="api-case-export"),
]
