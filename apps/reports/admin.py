"""HR admin of exports: the case detail of cycles from the cycle list, and the export jobs (run again, remove)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.cases.admin import CycleAdmin
from apps.cases.models import Cycle
from apps.common.users import signed_in_user

from .constants import ExportFormat, ReportKind
from .filters import ReportFilters
from .models import ExportJob
from .permissions import can_view_reports
from .responses import export_response
from .services import PreparedExport, export_job_request, export_jobs_cleanup, export_prepare, export_record


class CycleExportAdmin(CycleAdmin):
    """The cases app's cycle admin plus the reports' downloads of the selected cycles' case detail.

    Registered in place of CycleAdmin (below), so the cases app needs to know nothing of reports.
    """

    # The ignore: the stubs type ModelAdmin.actions per instance (generic in the model); this reads the class's list.
    actions = [*(CycleAdmin.actions or ()), "export_cases_csv", "export_cases_xlsx"]  # type: ignore[misc]

    def has_reports_permission(self, request: HttpRequest) -> bool:
        """Exports are for those who read the compliance reports: HR and Leadership, as on the dashboard."""
        return can_view_reports(request.user)

    @admin.action(description="Download the case detail of the selected cycles (CSV)", permissions=["reports"])
    def export_cases_csv(self, request: HttpRequest, queryset: QuerySet[Cycle]) -> HttpResponseBase | None:
        return self._export_cases(request, queryset, ExportFormat.CSV)

    @admin.action(description="Download the case detail of the selected cycles (Excel)", permissions=["reports"])
    def export_cases_xlsx(self, request: HttpRequest, queryset: QuerySet[Cycle]) -> HttpResponseBase | None:
        return self._export_cases(request, queryset, ExportFormat.XLSX)

    def _export_cases(
        self, request: HttpRequest, queryset: QuerySet[Cycle], export_format: str
    ) -> HttpResponseBase | None:
        """One file of the selected cycles' cases, audited like every export; a large one becomes a job."""
        if not can_view_reports(request.user):  # the action is hidden from others; refuse a forged request too
            raise PermissionDenied
        filters = ReportFilters.for_cycles(list(queryset.only("pk", "ritual_type_id")))
        export = export_prepare(
            kind=ReportKind.CASES, export_format=export_format, filters=filters, today=timezone.localdate()
        )
        if export.is_large:
            export_job_request(by=signed_in_user(request.user), export=export)
            self.message_user(
                request,
                f"{export.rows:,} rows: the export runs in the background. Its progress and download link are "
                "under Your exports on the dashboard.",
                messages.INFO,
            )
            return None
        export_record(export=export, destination="download")
        return export_response(export)


admin.site.unregister(Cycle)
admin.site.register(Cycle, CycleExportAdmin)


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
            export_job_request(by=signed_in_user(request.user), export=export)
            count += 1
        self.message_user(request, f"Queued {count} export(s); they appear on your dashboard.", messages.SUCCESS)

    @admin.action(description="Remove the files of the selected exports now")
    def remove_files_now(self, request: HttpRequest, queryset: QuerySet[ExportJob]) -> None:
        removed = export_jobs_cleanup(now=timezone.now(), only=queryset)
        self.message_user(request, f"Removed the files of {removed} export(s).", messages.SUCCESS)
