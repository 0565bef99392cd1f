"""The dashboard's first screen (headline figures and charts, each linking to its table) and the drill-down table
pages: paginated, sortable by column, filtered by the same query string."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..charts import (
    compliance_by_layer_chart,
    compliance_by_ritual_chart,
    compliance_by_unit_chart,
    evidence_mix_chart,
    insights_answered_chart,
    taking_part_chart,
    trend_chart,
)
from ..constants import ExportFormat
from ..filters import filters_from_query
from ..models import ExportJob
from ..selectors.stats import rate
from ..snapshots import stored_reports
from .common import filter_pairs, reports_required
from .exports import job_json
from .tables import DRILL_DOWNS, DrillDown, ritual_rows

PAGE_SIZE = 50
BLOCKING_ON_FIRST_SCREEN = 3


def _with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    return f"{url}?{urlencode(pairs)}" if pairs else url


@reports_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Headline figures and charts; every chart and figure links to its table, carrying the filters."""
    filters, form = filters_from_query(request.GET)
    context: dict[str, Any] = {
        "form": form,
        "jobs": [(job, job_json(job)) for job in ExportJob.objects.of_user(request.user)[:8]],
        "query": request.GET.urlencode(),
        "formats": ExportFormat.choices,
        "async_rows": f"{settings.REPORTS_ASYNC_EXPORT_ROWS:,}",
    }
    if filters is None:
        return render(request, "reports/dashboard.html", context, status=400)
    reports = stored_reports(filters=filters, today=timezone.localdate(), refresh=request.GET.get("refresh") == "1")
    pairs = filter_pairs(filters, form)
    mix = {row.key: row for row in reports.evidence_mix.metrics}
    boundary = reports.boundary
    context.update(
        reports=reports,
        snapshot=reports,
        refresh_url=_with_query(reverse("reports:dashboard"), [*filter_pairs(filters, form), ("refresh", "1")]),
        filters=filters,
        filter_pairs=pairs,
        # Template names cannot hold a hyphen: review-queue is links.review_queue.
        links={
            slug.replace("-", "_"): _with_query(reverse("reports:table", args=[slug]), pairs) for slug in DRILL_DOWNS
        },
        headline={
            "operational": mix["operational"].share if "operational" in mix else None,
            "outcome": mix["outcome"].share if "outcome" in mix else None,
            "silent": len(boundary.silent),
            "units": len(boundary.units),
            "silent_share": rate(len(boundary.silent), len(boundary.units)),
            "insights": reports.insights.total,
            "insights_unanswered": len(reports.insights.unanswered),
        },
        blocking=reports.unmet[:BLOCKING_ON_FIRST_SCREEN],
        charts={
            "units": compliance_by_unit_chart(reports.compliance),
            "trend": trend_chart(reports.compliance),
            "rituals": compliance_by_ritual_chart([(row.ritual, row.figures) for row in ritual_rows(reports)]),
            "layers": compliance_by_layer_chart(reports.compliance),
            "mix": evidence_mix_chart(reports.evidence_mix),
            "taking_part": taking_part_chart(boundary),
            "insights": insights_answered_chart(reports.insights),
        },
    )
    return render(request, "reports/dashboard.html", context)


def _sorted_rows(table: DrillDown, rows: list[Any], sort: str) -> list[Any]:
    """Rows sorted by one column (`-key` descending); empty cells last either way."""
    key = sort.removeprefix("-")
    column = next(column for column in table.columns if column.key == key)
    present = [row for row in rows if column.value(row) is not None]
    missing = [row for row in rows if column.value(row) is None]

    def order(row: Any) -> Any:
        value = column.value(row)
        return value.casefold() if isinstance(value, str) else value

    return sorted(present, key=order, reverse=sort.startswith("-")) + missing


@reports_required
@require_GET
def table(request: HttpRequest, slug: str) -> HttpResponse:
    """One drill-down table: 50 rows a page, `?sort=<column>` or `-<column>`, the dashboard's filters."""
    spec = DRILL_DOWNS.get(slug)
    if spec is None:
        raise Http404("No such table.")
    filters, form = filters_from_query(request.GET)
    sort = request.GET.get("sort", "")
    sort_keys = {column.key for column in spec.columns}
    context: dict[str, Any] = {"form": form, "table": spec, "formats": ExportFormat.choices, "sort": sort}
    if sort and sort.removeprefix("-") not in sort_keys:
        context["sort_error"] = f"Cannot sort by “{sort}”: choose a column heading."
    if filters is None or "sort_error" in context:
        return render(request, "reports/table.html", context, status=400)
    pairs = filter_pairs(filters, form)
    reports = stored_reports(filters=filters, today=timezone.localdate())
    rows = spec.rows(reports)
    if sort:
        rows = _sorted_rows(spec, rows, sort)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    indent = spec.depth if spec.depth and not sort else None
    here = reverse("reports:table", args=[slug])
    sort_pairs = [*pairs, ("sort", sort)] if sort else pairs
    context.update(
        snapshot=reports,
        filter_pairs=pairs,
        page=page,
        total=len(rows),
        rows=[
            {
                "depth": indent(row) if indent else 0,
                "cells": [(column.show(column.value(row)), column.numeric) for column in spec.columns],
            }
            for row in page.object_list
        ],
        headings=[
            {
                "label": column.label,
                "numeric": column.numeric,
                "url": _with_query(here, [*pairs, ("sort", column.key if sort != column.key else f"-{column.key}")]),
                "aria_sort": "ascending" if sort == column.key else "descending" if sort == f"-{column.key}" else "",
            }
            for column in spec.columns
        ],
        dashboard_url=_with_query(reverse("reports:dashboard"), pairs),
        unsorted_url=_with_query(here, pairs),
    )
    if page.has_previous():
        context["previous_url"] = _with_query(here, [*sort_pairs, ("page", str(page.previous_page_number()))])
    if page.has_next():
        context["next_url"] = _with_query(here, [*sort_pairs, ("page", str(page.next_page_number()))])
    return render(request, "reports/table.html", context)
