"""/api/insights/: ingest and HR reads (api.py), the units' inboxes (api_inbox.py)."""

from django.urls import include, path

urlpatterns = [
    path("", include("apps.insights.api")),
    path("", include("apps.insights.api_inbox")),
]
