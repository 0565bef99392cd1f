"""The leadership dashboard, its drill-down tables and its downloads, under /reports/."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/<str:kind>.<str:export_format>", views.export, name="export"),
    path("jobs/<int:pk>/", views.job_status, name="job-status"),
    path("jobs/<int:pk>/download/", views.job_download, name="job-download"),
    path("<slug:slug>/", views.table, name="table"),
]
