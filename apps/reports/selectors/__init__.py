"""Reads of the compliance reports: each a fixed number of aggregate queries, whatever the number of cases.

One module per family (compliance, evidence, requirements, the case detail); `reports_get` loads the org tree once
and returns every report for the dashboard, the API and the exports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cached_property
from typing import Any

from apps.org.selectors import OrgTree, org_tree_get

from ..filters import ReportFilters
from .cases import CaseDetail, case_detail
from .compliance import ComplianceFigures, ComplianceReport, compliance_report
from .evidence import (
    BoundaryReport,
    EvidenceMix,
    ReviewHealth,
    boundary_report,
    evidence_mix,
    review_health,
)
from .insights import InsightMonitor, MonitorFigures, insight_monitor
from .requirements import InventoryRow, UnmetRow, requirements_inventory, unmet_requirements

__all__ = [
    "BoundaryReport",
    "CaseDetail",
    "ComplianceFigures",
    "ComplianceReport",
    "EvidenceMix",
    "InsightMonitor",
    "InventoryRow",
    "PARTS",
    "Reports",
    "ReviewHealth",
    "MonitorFigures",
    "UnmetRow",
    "boundary_report",
    "case_detail",
    "compliance_report",
    "evidence_mix",
    "insight_monitor",
    "org_tree_get",
    "reports_get",
    "requirements_inventory",
    "review_health",
    "unmet_requirements",
]


class Reports:
    """Every report for one set of filters, each computed when first read (an export of one report runs only
    that report's queries); the org tree is loaded once and shared.

    Each report is computed by `read(part)`, which `apps.reports.snapshots.StoredReports` overrides to serve the
    recently computed figures the cache holds."""

    def __init__(self, *, filters: ReportFilters, today: dt.date, tree: OrgTree | None = None) -> None:
        self.filters = filters
        self.today = today
        self._tree = tree

    @cached_property
    def tree(self) -> OrgTree:
        return self._tree or org_tree_get()

    def read(self, part: str) -> Any:
        """Compute one report (`part`: a name of PARTS) for these filters."""
        return PARTS[part](self)

    @cached_property
    def compliance(self) -> ComplianceReport:
        return self.read("compliance")  # type: ignore[no-any-return]

    @cached_property
    def evidence_mix(self) -> EvidenceMix:
        return self.read("evidence_mix")  # type: ignore[no-any-return]

    @cached_property
    def review_health(self) -> ReviewHealth:
        return self.read("review_health")  # type: ignore[no-any-return]

    @cached_property
    def boundary(self) -> BoundaryReport:
        return self.read("boundary")  # type: ignore[no-any-return]

    @cached_property
    def inventory(self) -> list[InventoryRow]:
        return self.read("inventory")  # type: ignore[no-any-return]

    @cached_property
    def unmet(self) -> list[UnmetRow]:
        return self.read("unmet")  # type: ignore[no-any-return]

    @cached_property
    def insights(self) -> InsightMonitor:
        return self.read("insights")  # type: ignore[no-any-return]

    def case_detail(self) -> CaseDetail:
        return case_detail(filters=self.filters, tree=self.tree, today=self.today)


# The reports of the dashboard, its tables and the API, by name: how each is computed for a Reports' filters.
PARTS: dict[str, Callable[[Reports], Any]] = {
    "compliance": lambda r: compliance_report(filters=r.filters, tree=r.tree),
    "evidence_mix": lambda r: evidence_mix(filters=r.filters, tree=r.tree),
    "review_health": lambda r: review_health(filters=r.filters, tree=r.tree),
    "boundary": lambda r: boundary_report(filters=r.filters, tree=r.tree, today=r.today),
    "inventory": lambda r: requirements_inventory(filters=r.filters, tree=r.tree, today=r.today),
    "unmet": lambda r: unmet_requirements(filters=r.filters, tree=r.tree, today=r.today),
    "insights": lambda r: insight_monitor(filters=r.filters, as_of=r.today, tree=r.tree),
}


def reports_get(*, filters: ReportFilters, today: dt.date, tree: OrgTree | None = None) -> Reports:
    """Every report for the filters (computed lazily, each with its own fixed set of queries)."""
    return Reports(filters=filters, today=today, tree=tree)
