from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from bankwatch.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard", permanent=False), name="home"),
    path("healthz", healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("", include("alerts.urls")),
    path("", include("cases.urls")),
    path("", include("cameras.urls")),
    path("", include("entrance.urls")),
    path("audit/", include("audit.urls")),
    path("api/v1/", include("alerts.api_urls")),
    path("api/v1/", include("cases.api_urls")),
    path("api/v1/", include("cameras.api_urls")),
    path("api/v1/", include("enrollment.api_urls")),
    path("api/v1/", include("integrations.api_urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script from a URL of ours: no inline script (bankwatch/headers.py).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
]
