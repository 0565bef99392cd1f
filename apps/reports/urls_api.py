"""Routes of the reports API, included under /api/ by the project's URL map."""

from django.urls import path

from . import api

app_name = "reports_api"

urlpatterns = [
    path("reports/compliance/", api.ComplianceView.as_view(), name="compliance"),
    path("reports/evidence-mix/", api.EvidenceMixView.as_view(), name="evidence-mix"),
    path("reports/review-health/", api.ReviewHealthView.as_view(), name="review-health"),
    path("reports/boundary/", api.BoundaryView.as_view(), name="boundary"),
    path("reports/inventory/", api.InventoryView.as_view(), name="inventory"),
    path("reports/unmet-requirements/", api.UnmetRequirementsView.as_view(), name="unmet-requirements"),
    path("reports/insights/", api.InsightsView.as_view(), name="insights"),
    path("reports/exports/", api.ExportListView.as_view(), name="exports"),
    path("reports/exports/<int:pk>/", api.ExportDetailView.as_view(), name="export-detail"),
    path("reports/exports/<int:pk>/download/", api.ExportDownloadView.as_view(), name="export-download"),
]
