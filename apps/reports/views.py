"""The leadership dashboard, its downloads and the export jobs' progress (Leadership and HR only)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.common.roles import is_hr
from apps.common.users import signed_in_user

from .charts import compliance_by_unit_chart, evidence_mix_chart, trend_chart
from .constants import ExportFormat, ReportKind
from .filters import ReportFilters, filters_from_query
from .models import ExportJob
from .permissions import can_view_reports
from .renderers import renderer_for
from .responses import export_response
from .selectors import reports_get
from .services import export_job_request, export_prepare, export_progress, export_record


def reports_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed in (else the sign-in page), and Leadership or HR (else 403 saying who may)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not can_view_reports(request.user):
            return render(
                request,
                "portal/forbidden.html",
                {"message": "The compliance dashboard is for the Leadership and HR groups."},
                status=403,
            )
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _job_json(job: ExportJob) -> dict[str, Any]:
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
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Compliance, evidence mix, review health, boundary, inventory and the unmet ranking, with charts."""
    filters, form = filters_from_query(request.GET)
    jobs = [(job, _job_json(job)) for job in ExportJob.objects.of_user(request.user)[:8]]
    context: dict[str, Any] = {
        "form": form,
        "jobs": jobs,
        "query": request.GET.urlencode(),
        "formats": ExportFormat.choices,
        "async_rows": f"{settings.REPORTS_ASYNC_EXPORT_ROWS:,}",
    }
    if filters is None:
        return render(request, "reports/dashboard.html", context, status=400)
    reports = reports_get(filters=filters, today=timezone.localdate())
    context.update(
        reports=reports,
        filters=filters,
        filter_pairs=_filter_pairs(filters, form),
        charts={
            "units": compliance_by_unit_chart(reports.compliance),
            "trend": trend_chart(reports.compliance),
            "mix": evidence_mix_chart(reports.evidence_mix),
        },
    )
    return render(request, "reports/dashboard.html", context)


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
        return redirect(f"{reverse('reports:dashboard')}?{urlencode(_filter_pairs(filters, form))}#job-{job.pk}")
    export_record(export=prepared, destination="download")
    return export_response(prepared)


def _filter_pairs(filters: ReportFilters, form: Any) -> list[tuple[str, str]]:
    """The filters as query-string pairs (the download forms carry them, redirects keep them)."""
    data = form.cleaned_data
    pairs = {
        "cycle": data["cycle"].pk if data.get("cycle") else "",
        "ritual": data["ritual"].code if data.get("ritual") else "",
        "unit": data["unit"].code if data.get("unit") else "",
        "from": filters.date_from.isoformat() if filters.date_from else "",
        "to": filters.date_to.isoformat() if filters.date_to else "",
    }
    return [(key, str(value)) for key, value in pairs.items() if value]


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
    return JsonResponse(_job_json(_own_job(request, pk)))


@reports_required
@require_GET
def job_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The file of a finished export job: the person who asked for it, or HR."""
    job = _own_job(request, pk)
    if not job.is_ready:
        raise Http404("This export has no file (not finished yet, failed or removed).")
    content_type = renderer_for(job.format).content_type
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.download_name, content_type=content_type)
