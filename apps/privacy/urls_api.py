"""Routes of the privacy API, included under /api/privacy/ by the project's URL map."""

from django.urls import path

from . import api

app_name = "privacy_api"

urlpatterns = [
    path("employees/<int:pk>/erase/", api.EmployeeErasureView.as_view(), name="employee-erase"),
    path("employees/<int:pk>/export/", api.EmployeeExportView.as_view(), name="employee-export"),
]
