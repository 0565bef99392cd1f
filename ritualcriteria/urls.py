"""Top-level URL map."""

from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from apps.common.health import healthz

admin.site.site_header = "Ritual Criteria administration"
admin.site.site_title = "Ritual Criteria"
admin.site.index_title = "Criteria, evidence and cases"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
]
