"""The admin pages of a policy preview: start it, watch its progress, page and filter its flips, download them."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.text import slugify

from apps.audit.constants import AuditAction
from apps.audit.services import audit_record
from apps.common.csv_safety import safe_row
from apps.common.users import signed_in_user
from apps.org.models import OrgUnit
from apps.policies.models import PolicyVersion

from ..constants import PreviewStatus
from ..models import Cycle, PreviewJob
from .compute import PreviewRow, policy_preview
from .jobs import FlipFilters, preview_case_count, preview_flips, preview_job_request, preview_progress

PAGE_SIZE = 50
CSV_HEADER = ["case_id", "subject", "unit", "cycle", "now", "with_draft", "because_of"]


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[PreviewRow]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for row in rows:
        because = row.newly_unmet or row.newly_met
        yield writer.writerow(
            safe_row(
                [
                    row.case_id,
                    row.subject,
                    row.unit,
                    row.cycle,
                    "meets" if row.now_compliant else "short",
                    "meets" if row.would_be_compliant else "short",
                    "; ".join(because),
                ]
            )
        )


def _filters(request: HttpRequest) -> FlipFilters:
    """The result page's filters from its query string (a value that is not a number is ignored)."""

    def number(name: str) -> int | None:
        value = request.GET.get(name, "")
        return int(value) if value.isdigit() else None

    direction = request.GET.get("direction", "")
    return FlipFilters(
        direction=direction if direction in ("fail", "pass") else "",
        unit_id=number("unit"),
        cycle_id=number("cycle"),
    )


def _matches(row: PreviewRow, filters: FlipFilters) -> bool:
    if filters.direction and row.would_be_compliant != (filters.direction == "pass"):
        return False
    if filters.unit_id is not None and row.unit_id != filters.unit_id:
        return False
    return filters.cycle_id is None or row.cycle_id == filters.cycle_id


def _row_of(flip: Any) -> PreviewRow:
    return PreviewRow(
        case_id=flip.case_id,
        subject=flip.case.subject_name,
        unit=flip.unit.name,
        cycle=flip.cycle.name,
        now_compliant=flip.now_compliant,
        would_be_compliant=flip.would_be_compliant,
        newly_unmet=tuple(flip.newly_unmet),
        newly_met=tuple(flip.newly_met),
        unit_id=flip.unit_id,
        cycle_id=flip.cycle_id,
    )


class PolicyPreviewAdminMixin:
    """Preview pages for the case admin (HR: who may view cases)."""

    admin_site: Any
    opts: Any

    def preview_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("preview/<int:version_id>/", view(self.preview_view), name="cases_case_preview"),
            path("preview/job/<int:job_id>/", view(self.preview_job_view), name="cases_case_preview_job"),
        ]

    def _check(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied

    def _context(self, request: HttpRequest, version: PolicyVersion, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Preview of {version}",
            "version": version,
            **extra,
        }

    def _result_context(self, request: HttpRequest, rows: Any, filters: FlipFilters) -> dict[str, Any]:
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        query.pop("format", None)
        return {
            "page": page,
            "rows": [row if isinstance(row, PreviewRow) else _row_of(row) for row in page.object_list],
            "filters": filters,
            "query": query.urlencode(),
            "units": OrgUnit.objects.order_by("name").values_list("pk", "name"),
            "cycles": Cycle.objects.open().order_by("name").values_list("pk", "name"),
        }

    def preview_view(self, request: HttpRequest, version_id: int) -> HttpResponseBase:
        """Preview a version: small scopes inline; larger ones ask to start a background job (POST starts it)."""
        self._check(request)
        version = get_object_or_404(PolicyVersion.objects.select_related("policy__scope"), pk=version_id)
        if request.method == "POST":
            job = preview_job_request(version=version, by=signed_in_user(request.user), today=timezone.localdate())
            messages.info(request, "The preview runs in the background; this page shows its progress.")
            return redirect("admin:cases_case_preview_job", job.pk)
        running = PreviewJob.objects.active().filter(version=version).order_by("-pk").first()
        if running is not None:
            return redirect("admin:cases_case_preview_job", running.pk)
        count = preview_case_count(version=version)
        if count > settings.CASES_PREVIEW_INLINE_CASES:
            context = self._context(request, version, count=count, limit=settings.CASES_PREVIEW_INLINE_CASES)
            return TemplateResponse(request, "admin/cases/case/preview_start.html", context)
        preview = policy_preview(version=version, today=timezone.localdate())
        filters = _filters(request)
        rows = [row for row in preview.rows if _matches(row, filters)]
        if request.GET.get("format") == "csv":
            return self._csv(version, rows, job=None)
        context = self._context(
            request,
            version,
            preview=preview,
            summary={
                "examined": preview.examined,
                "flips": len(preview.rows),
                "would_fail": preview.would_fail,
                "would_pass": preview.would_pass,
            },
            requirements=preview.requirements,
            **self._result_context(request, rows, filters),
        )
        return TemplateResponse(request, "admin/cases/case/preview.html", context)

    def preview_job_view(self, request: HttpRequest, job_id: int) -> HttpResponseBase:
        """A preview job: its progress while it runs (the page refreshes), then its flips, filterable and as CSV."""
        self._check(request)
        job = get_object_or_404(PreviewJob.objects.select_related("version__policy__scope"), pk=job_id)
        version = job.version
        if job.status != PreviewStatus.DONE:
            done = preview_progress(job) or 0
            percent = min(100, round(done * 100 / job.total)) if job.total else 0
            context = self._context(request, version, job=job, done=done, percent=percent)
            return TemplateResponse(request, "admin/cases/case/preview.html", context)
        filters = _filters(request)
        flips = preview_flips(job=job, filters=filters)
        if request.GET.get("format") == "csv":
            return self._csv(version, (_row_of(flip) for flip in flips.iterator(chunk_size=2000)), job=job)
        context = self._context(
            request,
            version,
            job=job,
            summary={
                "examined": job.examined,
                "flips": job.flips,
                "would_fail": job.would_fail,
                "would_pass": job.would_pass,
            },
            **self._result_context(request, flips, filters),
        )
        return TemplateResponse(request, "admin/cases/case/preview.html", context)

    def _csv(self, version: PolicyVersion, rows: Iterable[PreviewRow], job: PreviewJob | None) -> StreamingHttpResponse:
        """Stream the (filtered) flips as CSV; the download is on the audit trail like every export."""
        name = f"preview-{slugify(str(version))}-{timezone.localdate().isoformat()}.csv"
        with transaction.atomic():
            audit_record(
                action=AuditAction.EXPORT_MADE,
                obj=job,
                object_type=None if job else "cases.preview",
                object_repr=f"Policy preview of {version} as CSV",
                context={"report": "policy_preview", "version": version.pk, "format": "csv", "file": name},
            )
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
