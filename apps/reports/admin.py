"""HR admin of export jobs: who exported what, its file while it is kept; run again, or remove the file now."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from .filters import ReportFilters
from .models import ExportJob
from .services import PreparedExport, export_job_request, export_jobs_cleanup, export_prepare


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ("__str__", "requested_by", "status", "rows_expected", "rows_written", "created_at", "expires_at",
                    "download")  # fmt: skip
    list_filter = ("status", "report", "format")
    list_select_related = ("requested_by",)
    search_fields = ("requested_by__username", "download_name")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in ExportJob._meta.fields]
    actions = ["run_again", "remove_files_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # exports are asked for from the dashboard, the API or manage.py export_compliance

    def has_change_permission(self, request: HttpRequest, obj: ExportJob | None = None) -> bool:
        return False

    @admin.display(description="file")
    def download(self, job: ExportJob) -> str:
        if not job.is_ready:
            return "–"
        return format_html('<a href="{}">{}</a>', reverse("reports:job-download", args=[job.pk]), job.download_name)

    @admin.action(description="Run the selected exports again (as a new job for you)")
    def run_again(self, request: HttpRequest, queryset: QuerySet[ExportJob]) -> None:
        count = 0
        for job in queryset:
            export: PreparedExport = export_prepare(
                kind=job.report,
                export_format=job.format,
                filters=ReportFilters.from_json(job.filters),
                today=timezone.localdate(),
            )
            export_job_request(by=request.user, export=export)
            count += 1
        self.message_user(request, f"Queued {count} export(s); they appear on your dashboard.", messages.SUCCESS)

    @admin.action(description="Remove the files of the selected exports now")
    def remove_files_now(self, request: HttpRequest, queryset: QuerySet[ExportJob]) -> None:
        removed = export_jobs_cleanup(now=timezone.now(), only=queryset)
        self.message_user(request, f"Removed the files of {removed} export(s).", messages.SUCCESS)
