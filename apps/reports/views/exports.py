"""Downloads of the reports and the export jobs' progress (Leadership and HR only)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.common.roles import is_hr
from apps.common.users import signed_in_user

from ..constants import ExportFormat, ReportKind
from ..filters import filters_from_query
from ..models import ExportJob
from ..renderers import renderer_for
from ..responses import export_response
from ..services import export_job_request, export_prepare, export_progress, export_record
from .common import filter_pairs, reports_required


def job_json(job: ExportJob) -> dict[str, Any]:
    """An export job as JSON: status, progress and its download link once ready."""
    written = export_progress(job)
    expected = job.rows_expected or 0
    return {
        "id": job.pk,
        "report": job.report,
        "report_label": job.get_report_display(),
        "format": job.format,
        "status": job.status,
        "status_label": job.get_status_display(),
        "rows_expected": job.rows_expected,
        "rows_written": written,
        "percent": min(100, round(written * 100 / expected)) if written is not None and expected else None,
        "download_url": reverse("reports:job-download", args=[job.pk]) if job.is_ready else None,
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
        "error": job.error,
    }


@reports_required
@require_POST
def export(request: HttpRequest, kind: str, export_format: str) -> HttpResponseBase:
    """Download a report or the case detail; a case detail over REPORTS_ASYNC_EXPORT_ROWS becomes a job."""
    if kind not in ReportKind.values or export_format not in ExportFormat.values:
        raise Http404("No such export.")
    filters, form = filters_from_query(request.POST)
    if filters is None:
        messages.error(request, f"Cannot export with these filters: {form.error_text()}")
        return redirect("reports:dashboard")
    prepared = export_prepare(kind=kind, export_format=export_format, filters=filters, today=timezone.localdate())
    if prepared.is_large:
        job = export_job_request(by=signed_in_user(request.user), export=prepared)
        messages.info(
            request,
            f"{prepared.rows:,} rows: the export runs in the background. Its progress and download link are "
            "under Your exports.",
        )
        return redirect(f"{reverse('reports:dashboard')}?{urlencode(filter_pairs(filters, form))}#job-{job.pk}")
    export_record(export=prepared, destination="download")
    return export_response(prepared)


def _own_job(request: HttpRequest, pk: int) -> ExportJob:
    """One of the user's jobs (HR, who administers exports, may open anyone's)."""
    jobs = ExportJob.objects.all() if is_hr(request.user) else ExportJob.objects.of_user(request.user)
    job = jobs.filter(pk=pk).first()
    if job is None:
        raise Http404("No such export.")
    return job


@reports_required
@require_GET
def job_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Progress of one of the user's export jobs, for the dashboard's progress bar."""
    return JsonResponse(job_json(_own_job(request, pk)))


@reports_required
@require_GET
def job_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The file of a finished export job: the person who asked for it, or HR."""
    job = _own_job(request, pk)
    if not job.is_ready:
        raise Http404("This export has no file (not finished yet, failed or removed).")
    content_type = renderer_for(job.format).content_type
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.download_name, content_type=content_type)
