"""REST API of the reports: the dashboard's figures as JSON, and asynchronous exports (Leadership and HR only)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.roles import is_hr
from apps.common.users import signed_in_user

from .constants import ExportFormat, ReportKind
from .filters import ReportFilters, filters_from_query
from .models import ExportJob
from .permissions import ReportsPermission
from .renderers import renderer_for
from .selectors import ComplianceFigures, MonitorFigures, Reports
from .services import export_job_request, export_prepare, export_progress
from .snapshots import stored_reports

FILTER_PARAMETERS = [
    OpenApiParameter("cycle", OpenApiTypes.INT, description="Cycle id."),
    OpenApiParameter("ritual", OpenApiTypes.STR, description="Ritual type code, e.g. promotion."),
    OpenApiParameter("unit", OpenApiTypes.STR, description="Org unit code: the unit and every unit under it."),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (cases opened, evidence dated, reviews)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included."),
    OpenApiParameter(
        "refresh",
        OpenApiTypes.STR,
        enum=["1"],
        description="1: compute the figures now instead of serving those computed in the last few minutes.",
    ),
]
ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid filters."),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description="Not in the Leadership or HR group."),
}


def plain(value: Any) -> Any:
    """A report value as JSON-friendly data: dataclasses as dicts (figures with their rates), dates as text."""
    if isinstance(value, ComplianceFigures):
        return value.as_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "histogram"}
        for name in ("blocked", "judged", "blocked_share", "share_taking_part", "flagged_share"):
            if hasattr(type(value), name):
                data[name] = getattr(value, name)
        return data
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _filters(request: Request) -> ReportFilters:
    filters, form = filters_from_query(request.query_params)
    if filters is None:
        raise ValidationError(
            {field: [str(message) for message in messages] for field, messages in form.errors.items()}
        )
    return filters


class _ReportView(APIView):
    """GET one report for the filters in the query string."""

    permission_classes = [ReportsPermission]
    report: Callable[[Reports], Any]

    def get(self, request: Request) -> Response:
        filters = _filters(request)
        refresh = request.query_params.get("refresh") == "1"
        reports = stored_reports(filters=filters, today=timezone.localdate(), refresh=refresh)
        payload = self.payload(reports)
        return Response({"filters": filters.as_json(), "computed_at": reports.computed_at.isoformat(), **payload})

    def payload(self, reports: Reports) -> dict[str, Any]:
        raise NotImplementedError


def _report_schema(summary: str) -> Callable:
    return extend_schema(summary=summary, parameters=FILTER_PARAMETERS, responses={200: OpenApiTypes.OBJECT, **ERRORS})


class ComplianceView(_ReportView):
    @_report_schema("Compliance by cycle, unit (rolled up) and customer layer")
    def get(self, request: Request) -> Response:
        return super().get(request)

    def payload(self, reports: Reports) -> dict[str, Any]:
        report = reports.compliance
        return {
            "total": plain(report.total),
            "cycles": plain(report.cycles),
            "units": plain(report.units),
            "layers": plain(report.layers),
            "cycle_units": plain(report.cycle_units),
            "cycle_layers": plain(report.cycle_layers),
        }


class EvidenceMixView(_ReportView):
    @_report_schema("Evidence mix: categories, metric kinds, customers, gaming flags")
    def get(self, request: Request) -> Response:
        return super().get(request)

    def payload(self, reports: Reports) -> dict[str, Any]:
        return plain(reports.evidence_mix)


class ReviewHealthView(_ReportView):
    @_report_schema("Review health: queue by expected reviewer, turnaround by reviewer")
    def get(self, request: Request) -> Response:
        return super().get(request)

    def payload(self, reports: Reports) -> dict[str, Any]:
        return plain(reports.review_health)


class BoundaryView(_ReportView):
    @_report_schema("Boundary: units, by customer layer, with no verified evidence in the period")
    def get(self, request: Request) -> Response:
        return super().get(request)

    def payload(self, reports: Reports) -> dict[str, Any]:
        return plain(reports.boundary)


class InventoryView(_ReportView):
    @_report_schema("Requirements inventory: what groups add to the baseline")
    def get(self, request: Request) -> Response:
        return super().get(request)

    def payload(self, reports: Reports) -> dict[str, Any]:
        return {"requirements": plain(reports.inventory)}


class UnmetRequirementsView(_ReportView):
    @_report_schema("Requirements ranked by the cases they block")
    def get(self, request: Request) -> Response:
        return super().get(request)

    def payload(self, reports: Reports) -> dict[str, Any]:
        return {"requirements": plain(reports.unmet)}


def _monitor_figures(figures: MonitorFigures) -> dict[str, Any]:
    return {
        "received": figures.received,
        "responded": figures.responded,
        "responded_in_time": figures.in_time,
        "share_in_time": figures.share_in_time,
        "median_days_to_response": figures.median_days,
    }


class InsightsView(_ReportView):
    @_report_schema("Customer insights: received, responded in time and median days to response, by unit and layer")
    def get(self, request: Request) -> Response:
        return super().get(request)

    def payload(self, reports: Reports) -> dict[str, Any]:
        monitor = reports.insights
        return {
            "as_of": monitor.as_of.isoformat(),
            "response_days": monitor.response_days,
            "total": _monitor_figures(monitor.total),
            "units": [
                {
                    "unit": row.code,
                    "name": row.name,
                    "customer_layer": row.customer_layer,
                    **_monitor_figures(row.figures),
                    "no_response": row.unanswered,
                }
                for row in monitor.units
            ],
            "layers": [
                {
                    "customer_layer": row.customer_layer,
                    "units": row.units,
                    "units_with_no_response": row.units_unanswered,
                    **_monitor_figures(row.figures),
                }
                for row in monitor.layers
            ],
            "units_with_no_response": [row.code for row in monitor.unanswered],
        }


class ExportRequestSerializer(serializers.Serializer):
    report = serializers.ChoiceField(choices=ReportKind.choices)
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    cycle = serializers.IntegerField(required=False)
    ritual = serializers.CharField(required=False)
    unit = serializers.CharField(required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


def job_json(job: ExportJob, request: Request) -> dict[str, Any]:
    written = export_progress(job)
    return {
        "id": job.pk,
        "report": job.report,
        "format": job.format,
        "filters": job.filters,
        "status": job.status,
        "rows_expected": job.rows_expected,
        "rows_written": written,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
        "error": job.error,
        "download": request.build_absolute_uri(reverse("reports_api:export-download", args=[job.pk]))
        if job.is_ready
        else None,
    }


class ExportListView(APIView):
    """Your export jobs; POST asks for a new one (always run by a worker; poll it, then download)."""

    permission_classes = [ReportsPermission]

    @extend_schema(
        operation_id="reports_exports_list",
        summary="Your recent export jobs",
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        jobs = ExportJob.objects.of_user(request.user)[:50]
        return Response({"results": [job_json(job, request) for job in jobs]})

    @extend_schema(
        summary="Ask for an export",
        request=ExportRequestSerializer,
        responses={202: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = ExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        query = {key: str(value) for key, value in data.validated_data.items() if key not in ("report", "format")}
        filters, form = filters_from_query(query)
        if filters is None:
            raise ValidationError(
                {field: [str(message) for message in messages] for field, messages in form.errors.items()}
            )
        export = export_prepare(
            kind=data.validated_data["report"],
            export_format=data.validated_data["format"],
            filters=filters,
            today=timezone.localdate(),
        )
        job = export_job_request(by=signed_in_user(request.user), export=export)
        return Response(job_json(job, request), status=status.HTTP_202_ACCEPTED)


def _visible_jobs(request: Request) -> Any:
    """The user's jobs; HR, who administers exports, sees everyone's."""
    return ExportJob.objects.all() if is_hr(request.user) else ExportJob.objects.of_user(request.user)


class ExportDetailView(APIView):
    permission_classes = [ReportsPermission]

    @extend_schema(
        operation_id="reports_exports_retrieve",
        summary="One of your export jobs, with its progress",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, pk: int) -> Response:
        job = _visible_jobs(request).filter(pk=pk).first()
        if job is None:
            raise Http404("No such export.")
        return Response(job_json(job, request))


class ExportDownloadView(APIView):
    permission_classes = [ReportsPermission]

    @extend_schema(summary="The file of one of your finished export jobs", responses={200: OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> FileResponse:
        job = _visible_jobs(request).filter(pk=pk).first()
        if job is None or not job.is_ready:
            raise Http404("No such file (not finished, failed, removed, or not yours).")
        return FileResponse(
            job.file.open("rb"),
            as_attachment=True,
            filename=job.download_name,
            content_type=renderer_for(job.format).content_type,
        )
