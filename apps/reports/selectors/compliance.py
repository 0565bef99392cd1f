"""Compliance by cycle x ritual x org unit (rolled up to ancestors) x customer layer: four queries in all."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from apps.cases.constants import CaseStatus
from apps.cases.models import CaseEvidence, CaseQuerySet, Cycle
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.org.selectors import OrgTree

from ..filters import ReportFilters
from .scope import case_scope
from .stats import median, rate


@dataclass(slots=True)
class ComplianceFigures:
    """The compliance figures of a group of cases (see docs/reports.md for each definition)."""

    cases: int = 0  # every case but withdrawn ones
    open: int = 0
    open_short: int = 0  # open, and the stored compliance says a requirement is unmet
    open_unevaluated: int = 0  # open, and never evaluated since it opened (no evidence reviewed yet)
    approved: int = 0
    approved_with_exception: int = 0
    rejected: int = 0
    withdrawn: int = 0
    compliant_at_decision: int = 0  # approved or rejected cases whose frozen evaluation met every requirement
    evidence: Counter[float] = field(default_factory=Counter)  # verified items per case -> number of cases

    @property
    def decided(self) -> int:
        return self.approved + self.approved_with_exception + self.rejected

    @property
    def compliance_rate(self) -> float | None:
        """Share of decided cases that met their policy at decision."""
        return rate(self.compliant_at_decision, self.decided)

    @property
    def exception_rate(self) -> float | None:
        """Share of approvals that needed a policy exception."""
        return rate(self.approved_with_exception, self.approved + self.approved_with_exception)

    @property
    def median_verified_evidence(self) -> float | None:
        return median(self.evidence)

    def count(self, status: str, compliant: bool | None, n: int) -> None:
        """Add `n` cases of one status and stored compliance."""
        if status == CaseStatus.WITHDRAWN:
            self.withdrawn += n
            return
        self.cases += n
        if status == CaseStatus.OPEN:
            self.open += n
            if compliant is False:
                self.open_short += n
            elif compliant is None:
                self.open_unevaluated += n
            return
        if status == CaseStatus.APPROVED:
            self.approved += n
        elif status == CaseStatus.APPROVED_WITH_EXCEPTION:
            self.approved_with_exception += n
        elif status == CaseStatus.REJECTED:
            self.rejected += n
        if compliant:
            self.compliant_at_decision += n

    def add(self, other: ComplianceFigures) -> None:
        """Add another group's figures (roll-up)."""
        for name in ("cases", "open", "open_short", "open_unevaluated", "approved", "approved_with_exception",
                     "rejected", "withdrawn", "compliant_at_decision"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.evidence.update(other.evidence)

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-friendly values (rates as fractions 0-1, None when undefined)."""
        return {
            "cases": self.cases,
            "decided": self.decided,
            "compliant_at_decision": self.compliant_at_decision,
            "compliance_rate": self.compliance_rate,
            "approved": self.approved,
            "approved_with_exception": self.approved_with_exception,
            "exception_rate": self.exception_rate,
            "rejected": self.rejected,
            "withdrawn": self.withdrawn,
            "open": self.open,
            "open_short": self.open_short,
            "open_unevaluated": self.open_unevaluated,
            "median_verified_evidence": self.median_verified_evidence,
        }


@dataclass(slots=True)
class CycleRow:
    """One cycle's totals (the trend across cycles)."""

    cycle_id: int
    name: str
    ritual: str
    opens_on: dt.date
    figures: ComplianceFigures


@dataclass(slots=True)
class UnitRow:
    """One org unit: its own cases and its whole subtree's (`figures`), for one cycle or all (`cycle_id` None)."""

    cycle_id: int | None
    unit_id: int
    name: str
    customer_layer: int
    depth: int
    figures: ComplianceFigures
    own: ComplianceFigures


@dataclass(slots=True)
class LayerRow:
    """The cases of every unit of one customer layer (each case counted once, in its own unit's layer)."""

    cycle_id: int | None
    customer_layer: int
    units: int
    figures: ComplianceFigures


@dataclass(slots=True)
class ComplianceReport:
    """The compliance cube: per cycle (trend), per unit and per layer, over all cycles and per cycle."""

    total: ComplianceFigures
    cycles: list[CycleRow]
    units: list[UnitRow]
    layers: list[LayerRow]
    cycle_units: list[UnitRow]
    cycle_layers: list[LayerRow]

    def cycle_name(self, cycle_id: int | None) -> str:
        names = {row.cycle_id: row.name for row in self.cycles}
        return names.get(cycle_id, "All cycles") if cycle_id is not None else "All cycles"


def verified_evidence_per_case() -> Any:
    """SQL expression: a case's current verified evidence dated up to its cycle's evidence deadline (the
    subject's own items, plus items linked to the case that are not the subject's own)."""
    own = (
        Evidence.objects.filter(
            owner_id=OuterRef("subject_employee_id"),
            is_current=True,
            status=EvidenceStatus.VERIFIED,
            impact_date__lte=OuterRef("cycle__evidence_deadline"),
        )
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    linked = (
        CaseEvidence.objects.filter(
            case_id=OuterRef("pk"),
            evidence__is_current=True,
            evidence__status=EvidenceStatus.VERIFIED,
            evidence__impact_date__lte=OuterRef("cycle__evidence_deadline"),
        )
        .filter(Q(case__subject_employee_id__isnull=True) | ~Q(evidence__owner_id=F("case__subject_employee_id")))
        .order_by()
        .values("case_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(own), Value(0)) + Coalesce(Subquery(linked), Value(0))


def _own_figures(cases: CaseQuerySet) -> dict[tuple[int, int], ComplianceFigures]:
    """Figures per (cycle, policy unit): two GROUP BY queries."""
    own: dict[tuple[int, int], ComplianceFigures] = defaultdict(ComplianceFigures)
    statuses = cases.values("cycle_id", "policy_unit_id", "status", "compliant").annotate(n=Count("pk"))
    for row in statuses:
        own[(row["cycle_id"], row["policy_unit_id"])].count(row["status"], row["compliant"], row["n"])
    histogram = (
        cases.exclude(status=CaseStatus.WITHDRAWN)
        .annotate(verified=verified_evidence_per_case())
        .values("cycle_id", "policy_unit_id", "verified")
        .annotate(n=Count("pk"))
    )
    for bucket in histogram:
        own[(bucket["cycle_id"], bucket["policy_unit_id"])].evidence[bucket["verified"]] += bucket["n"]
    return own


def _tree_order(tree: OrgTree, roots: Iterable[int], present: set[int]) -> list[tuple[int, int]]:
    """(unit, depth) depth-first from `roots`, children by name, keeping the units in `present`."""
    order: list[tuple[int, int]] = []
    stack = [(root, 0) for root in sorted(roots, key=lambda u: tree.name_of.get(u, ""), reverse=True)]
    seen: set[int] = set()
    while stack:
        unit, depth = stack.pop()
        if unit in seen or unit not in present:
            continue
        seen.add(unit)
        order.append((unit, depth))
        children = sorted(tree.children_of.get(unit, []), key=lambda u: tree.name_of.get(u, ""), reverse=True)
        stack.extend((child, depth + 1) for child in children)
    return order


def _roll_up(
    own: dict[int, ComplianceFigures], tree: OrgTree, root: int | None, cycle_id: int | None
) -> tuple[list[UnitRow], list[LayerRow]]:
    """Subtree totals of every unit that has cases below it, in tree order; and totals per customer layer."""
    totals: dict[int, ComplianceFigures] = defaultdict(ComplianceFigures)
    layers: dict[int, ComplianceFigures] = defaultdict(ComplianceFigures)
    layer_units: dict[int, int] = Counter()
    for unit, figures in own.items():
        layer = tree.layer_of.get(unit, 0)
        layers[layer].add(figures)
        layer_units[layer] += 1
        for ancestor in tree.ancestors(unit):
            totals[ancestor].add(figures)
            if ancestor == root:
                break
    roots = [root] if root is not None else tree.children_of.get(None, [])
    rows = [
        UnitRow(
            cycle_id=cycle_id,
            unit_id=unit,
            name=tree.name_of.get(unit, f"#{unit}"),
            customer_layer=tree.layer_of.get(unit, 0),
            depth=depth,
            figures=totals[unit],
            own=own.get(unit, ComplianceFigures()),
        )
        for unit, depth in _tree_order(tree, roots, set(totals))
    ]
    layer_rows = [
        LayerRow(cycle_id=cycle_id, customer_layer=layer, units=layer_units[layer], figures=layers[layer])
        for layer in sorted(layers)
    ]
    return rows, layer_rows


def compliance_report(*, filters: ReportFilters, tree: OrgTree) -> ComplianceReport:
    """The compliance cube for the filtered cases: three queries (plus the org tree the caller loaded)."""
    own = _own_figures(case_scope(filters, tree))
    cycles = {
        row["pk"]: row
        for row in Cycle.objects.filter(pk__in={cycle_id for cycle_id, _ in own}).values(
            "pk", "name", "ritual_type__name", "opens_on"
        )
    }
    per_cycle: dict[int, dict[int, ComplianceFigures]] = defaultdict(dict)
    combined: dict[int, ComplianceFigures] = defaultdict(ComplianceFigures)
    cycle_totals: dict[int, ComplianceFigures] = defaultdict(ComplianceFigures)
    total = ComplianceFigures()
    for (cycle_id, unit), figures in own.items():
        per_cycle[cycle_id][unit] = figures
        combined[unit].add(figures)
        cycle_totals[cycle_id].add(figures)
        total.add(figures)
    trend = sorted(
        (
            CycleRow(
                cycle_id=cycle_id,
                name=cycles[cycle_id]["name"],
                ritual=cycles[cycle_id]["ritual_type__name"],
                opens_on=cycles[cycle_id]["opens_on"],
                figures=figures,
            )
            for cycle_id, figures in cycle_totals.items()
        ),
        key=lambda row: (row.opens_on, row.name),
    )
    units, layers = _roll_up(dict(combined), tree, filters.unit_id, None)
    cycle_units: list[UnitRow] = []
    cycle_layers: list[LayerRow] = []
    for row in trend:
        rows, layer_rows = _roll_up(per_cycle[row.cycle_id], tree, filters.unit_id, row.cycle_id)
        cycle_units.extend(rows)
        cycle_layers.extend(layer_rows)
    return ComplianceReport(
        total=total, cycles=trend, units=units, layers=layers, cycle_units=cycle_units, cycle_layers=cycle_layers
    )
