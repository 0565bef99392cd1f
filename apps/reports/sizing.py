"""How much work an export is, estimated before any report runs: decides whether it runs in the request or as a job.

The unit of work is one case-detail CSV row (about 1/15,000 s on the benchmark machine, docs/benchmarks.md), so
`REPORTS_ASYNC_EXPORT_ROWS` keeps its meaning: a CSV case detail goes to a job above that many rows, and every
other export above the same amount of work. An estimate is the rows the file will have times the format's cost
per row, plus what the report computes per case or evidence item in scope (the summary aggregates every case and
ranks every open case's requirements, whatever few rows it shows). The figures come from at most two COUNT
queries (cases, evidence) on the report's own filters; the org tree gives the units.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from apps.cases.constants import CaseStatus
from apps.org.selectors import OrgTree

from .constants import ExportFormat, ReportKind
from .filters import ReportFilters
from .selectors.scope import case_scope, evidence_scope, subtree_ids

# Work of writing one row, by format: XLSX wrote 3,904 case-detail rows/s against CSV's 15,495 (bench/export.py).
ROW_WEIGHT: dict[str, float] = {ExportFormat.CSV: 1.0, ExportFormat.XLSX: 4.0}
# Work a report does per item in scope, besides writing rows (rough shares of the summary's time on the large
# company: aggregating cases in the database is cheap per item, ranking open cases' requirements not). Evidence: the
# summary of the 100,000-employee demo (349,562 items, 5,244 cases) took 3.3 s inline (bench/pages.py), about 9 us an
# item against 65 us a case-detail CSV row, so 0.1 (it was 0.01, which kept that export in the request).
PER_CASE = 0.02
PER_OPEN_CASE = 0.5
PER_EVIDENCE = 0.1
# Reports whose rows or computation follow the cases, the evidence, or the units in scope.
CASE_KINDS = frozenset({ReportKind.COMPLIANCE, ReportKind.UNMET, ReportKind.SUMMARY, ReportKind.CASES})
EVIDENCE_KINDS = frozenset({ReportKind.EVIDENCE_MIX, ReportKind.REVIEW_HEALTH, ReportKind.BOUNDARY, ReportKind.SUMMARY})


@dataclass(frozen=True, slots=True)
class ExportEstimate:
    """What an export will cost: the rows it is expected to write and its work in row-equivalents."""

    rows: int
    work: float


def _units_and_layers(filters: ReportFilters, tree: OrgTree) -> tuple[int, int]:
    units = subtree_ids(filters, tree)
    ids = list(tree.parent_of) if units is None else units
    return len(ids), len({tree.layer_of.get(unit) for unit in ids})


def export_estimate(*, kind: str, export_format: str, filters: ReportFilters, tree: OrgTree) -> ExportEstimate:
    """Estimate an export's rows and work from counts alone (no report is computed)."""
    cases = open_cases = cycles = evidence = 0
    if kind in CASE_KINDS:
        figures = case_scope(filters, tree).aggregate(
            cases=Count("pk"),
            open=Count("pk", filter=Q(status=CaseStatus.OPEN)),
            cycles=Count("cycle_id", distinct=True),
        )
        cases, open_cases, cycles = figures["cases"], figures["open"], figures["cycles"]
    if kind in EVIDENCE_KINDS:
        evidence = evidence_scope(filters, tree).count()
    units, layers = _units_and_layers(filters, tree)

    rows = 0
    compute = 0.0
    if kind == ReportKind.CASES:
        rows = cases
    if kind in (ReportKind.COMPLIANCE, ReportKind.SUMMARY):
        # by cycle, by unit, by layer, and units and layers within each cycle (units with cases at most)
        rows += cycles + (min(units, cases) + layers) * (cycles + 1)
        compute += cases * PER_CASE
    if kind in (ReportKind.UNMET, ReportKind.SUMMARY):
        compute += open_cases * PER_OPEN_CASE
    if kind in (ReportKind.BOUNDARY, ReportKind.SUMMARY):
        rows += units + layers  # at worst every unit is without evidence
    if kind in (ReportKind.INSIGHTS, ReportKind.SUMMARY):
        rows += units + layers  # at worst every unit received insights (one aggregate query computes them)
    if kind in EVIDENCE_KINDS:
        compute += evidence * PER_EVIDENCE
    return ExportEstimate(rows=rows, work=rows * ROW_WEIGHT.get(export_format, 1.0) + compute)
