"""Top-level URL map."""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.common.health import healthz

# A database outage outside a view (a middleware, the session save) answers 503 like one inside a view.
handler500 = "apps.common.middleware.server_error"
# Too-large or malformed form data says what was wrong.
handler400 = "apps.common.middleware.bad_request"
# Under /api/ an unknown URL (or a non-numeric id) and a refusal outside DRF answer JSON, as DRF's own errors do.
handler404 = "apps.common.errors.not_found"
handler403 = "apps.common.errors.permission_denied"


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever the page says; the icon is the portal's SVG.

    Resolved per request: with the manifest storage of production the hashed name exists only after collectstatic.
    """
    return HttpResponsePermanentRedirect(static("portal/favicon.svg"))


admin.site.site_header = "Ritual Criteria administration"
admin.site.site_title = "Ritual Criteria"
admin.site.index_title = "HR home"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", login_required(SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
    path("api/", include("apps.evidence.urls_api")),
    path("api/", include("apps.cases.urls_api")),
    path("api/", include("apps.reports.urls_api")),
    path("api/", include("apps.reminders.urls_api")),
    path("api/privacy/", include("apps.privacy.urls_api")),
    path("api/insights/", include("apps.insights.urls_api")),
    path("reports/", include("apps.reports.urls")),
    path("", include("apps.portal.urls")),
]
