"""Reads of the compliance reports: each a fixed number of aggregate queries, whatever the number of cases.

One module per family (compliance, evidence, requirements, the case detail); `reports_get` loads the org tree once
and returns every report for the dashboard, the API and the exports.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

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
from .requirements import InventoryRow, UnmetRow, requirements_inventory, unmet_requirements

__all__ = [
    "BoundaryReport",
    "CaseDetail",
    "ComplianceFigures",
    "ComplianceReport",
    "EvidenceMix",
    "InventoryRow",
    "Reports",
    "ReviewHealth",
    "UnmetRow",
    "boundary_report",
    "case_detail",
    "compliance_report",
    "evidence_mix",
    "org_tree_get",
    "reports_get",
    "requirements_inventory",
    "review_health",
    "unmet_requirements",
]


class Reports:
    """Every report for one set of filters, each computed when first read (an export of one report runs only
    that report's queries); the org tree is loaded once and shared."""

    def __init__(self, *, filters: ReportFilters, today: dt.date, tree: OrgTree | None = None) -> None:
        self.filters = filters
        self.today = today
        self._tree = tree

    @cached_property
    def tree(self) -> OrgTree:
        return self._tree or org_tree_get()

    @cached_property
    def compliance(self) -> ComplianceReport:
        return compliance_report(filters=self.filters, tree=self.tree)

    @cached_property
    def evidence_mix(self) -> EvidenceMix:
        return evidence_mix(filters=self.filters, tree=self.tree)

    @cached_property
    def review_health(self) -> ReviewHealth:
        return review_health(filters=self.filters, tree=self.tree)

    @cached_property
    def boundary(self) -> BoundaryReport:
        return boundary_report(filters=self.filters, tree=self.tree, today=self.today)

    @cached_property
    def inventory(self) -> list[InventoryRow]:
        return requirements_inventory(filters=self.filters, tree=self.tree, today=self.today)

    @cached_property
    def unmet(self) -> list[UnmetRow]:
        return unmet_requirements(filters=self.filters, tree=self.tree, today=self.today)

    def case_detail(self) -> CaseDetail:
        return case_detail(filters=self.filters, tree=self.tree, today=self.today)


def reports_get(*, filters: ReportFilters, today: dt.date, tree: OrgTree | None = None) -> Reports:
    """Every report for the filters (computed lazily, each with its own fixed set of queries)."""
    return Reports(filters=filters, today=today, tree=tree)
