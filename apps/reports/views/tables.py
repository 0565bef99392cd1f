"""The drill-down tables of the dashboard: for each, its rows (from the reports the selectors return) and its columns
(what a cell shows and what the column sorts by). The exported columns stay in apps/reports/tables.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..constants import ReportKind
from ..selectors import ComplianceFigures, Reports
from ..templatetags.reports_tags import hours, number, pct


def text(value: Any) -> str:
    return "–" if value is None or value == "" else str(value)


def day(value: dt.date | dt.datetime | None) -> str:
    return "–" if value is None else f"{value:%-d %b %Y}"


def yes_no(value: bool) -> str:
    return "Yes" if value else "No"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its `?sort=` key, heading, the value it sorts by and how a cell shows that value."""

    key: str
    label: str
    value: Callable[[Any], Any]
    show: Callable[[Any], str] = text
    numeric: bool = False


@dataclass(frozen=True, slots=True)
class DrillDown:
    """One table page under /reports/<slug>/, downloadable as the report `kind`."""

    slug: str
    title: str
    hint: str
    kind: str
    rows: Callable[[Reports], list[Any]]
    columns: tuple[Column, ...]
    empty: str
    # The unit tree's indentation, shown while the rows keep the report's own order (unsorted).
    depth: Callable[[Any], int] | None = None


@dataclass(slots=True)
class RitualRow:
    """The cases of every cycle of one ritual."""

    ritual: str
    cycles: int = 0
    figures: ComplianceFigures = field(default_factory=ComplianceFigures)


def ritual_rows(reports: Reports) -> list[RitualRow]:
    """Compliance by ritual: the cycle rows added up per ritual (no query beyond the compliance report's)."""
    rows: dict[str, RitualRow] = {}
    for cycle in reports.compliance.cycles:
        row = rows.setdefault(cycle.ritual, RitualRow(ritual=cycle.ritual))
        row.cycles += 1
        row.figures.add(cycle.figures)
    return sorted(rows.values(), key=lambda row: row.ritual)


def figure_columns() -> tuple[Column, ...]:
    """The compliance figures of a row with a `figures` attribute (unit, layer, cycle, ritual)."""

    def col(key: str, label: str, attribute: str, show: Callable[[Any], str] = text) -> Column:
        return Column(key, label, lambda row: getattr(row.figures, attribute), show, numeric=True)

    return (
        col("cases", "Cases", "cases"),
        col("decided", "Decided", "decided"),
        col("compliance", "Compliant at decision", "compliance_rate", pct),
        col("compliant", "Compliant cases", "compliant_at_decision"),
        col("exceptions", "Approved with exception", "approved_with_exception"),
        col("exception-rate", "Exception rate", "exception_rate", pct),
        col("open-short", "Open short of policy", "open_short"),
        col("open", "Open", "open"),
        col("unevaluated", "Open, not yet evaluated", "open_unevaluated"),
        col("evidence", "Median verified evidence", "median_verified_evidence", number),
    )


COMPLIANCE_HINT = (
    "Compliance is the stored one: frozen at decision, refreshed for open cases when evidence is reviewed. Cases "
    "belong to their policy unit (the subject's unit, or the hiring unit)."
)

DRILL_DOWNS: dict[str, DrillDown] = {
    table.slug: table
    for table in (
        DrillDown(
            slug="units",
            title="Compliance by unit",
            hint="Each unit counts its own cases and those of every unit below it. " + COMPLIANCE_HINT,
            kind=ReportKind.COMPLIANCE,
            rows=lambda reports: reports.compliance.units,
            columns=(
                Column("unit", "Unit", lambda row: row.name),
                Column("layer", "Customer layer", lambda row: row.customer_layer, numeric=True),
                *figure_columns(),
                Column("own", "Cases of the unit itself", lambda row: row.own.cases, numeric=True),
            ),
            empty="No cases for these filters. Try another cycle, ritual or unit, or widen the dates.",
            depth=lambda row: row.depth,
        ),
        DrillDown(
            slug="layers",
            title="Compliance by customer layer",
            hint="Layer 0 touches external customers, layer 1 serves layer 0, and so on: every case counted once, "
            "in its own unit's layer. " + COMPLIANCE_HINT,
            kind=ReportKind.COMPLIANCE,
            rows=lambda reports: reports.compliance.layers,
            columns=(
                Column("layer", "Customer layer", lambda row: row.customer_layer, numeric=True),
                Column("units", "Units with cases", lambda row: row.units, numeric=True),
                *figure_columns(),
            ),
            empty="No cases for these filters.",
        ),
        DrillDown(
            slug="rituals",
            title="Compliance by ritual",
            hint="Every cycle of a ritual added up. " + COMPLIANCE_HINT,
            kind=ReportKind.COMPLIANCE,
            rows=ritual_rows,
            columns=(
                Column("ritual", "Ritual", lambda row: row.ritual),
                Column("cycles", "Cycles", lambda row: row.cycles, numeric=True),
                *figure_columns(),
            ),
            empty="No cases for these filters.",
        ),
        DrillDown(
            slug="cycles",
            title="Compliance by cycle",
            hint="Oldest cycle first: the trend across cycles. " + COMPLIANCE_HINT,
            kind=ReportKind.COMPLIANCE,
            rows=lambda reports: reports.compliance.cycles,
            columns=(
                Column("cycle", "Cycle", lambda row: row.name),
                Column("ritual", "Ritual", lambda row: row.ritual),
                Column("opens", "Opens on", lambda row: row.opens_on, day),
                *figure_columns(),
            ),
            empty="No cases for these filters.",
        ),
        DrillDown(
            slug="evidence",
            title="Evidence mix",
            hint="Items submitted for review (current versions, dated within the filter) and those verified, by "
            "category, by kind of metric (operational KPIs count more than outcome scores), by customer, and the "
            "gaming flags raised. Shares are of verified items (of submitted items for flags).",
            kind=ReportKind.EVIDENCE_MIX,
            rows=lambda reports: [
                *(("Category", s) for s in reports.evidence_mix.categories),
                *(("Metric", s) for s in reports.evidence_mix.metrics),
                *(("Customer", s) for s in reports.evidence_mix.customers),
                *(("Gaming flag", s) for s in reports.evidence_mix.flags),
            ],
            columns=(
                Column("by", "By", lambda row: row[0]),
                Column("slice", "Slice", lambda row: row[1].label),
                Column("submitted", "Submitted", lambda row: row[1].items, numeric=True),
                Column("verified", "Verified", lambda row: row[1].verified, numeric=True),
                Column("share", "Share", lambda row: row[1].share, pct, numeric=True),
            ),
            empty="No evidence submitted for these filters.",
        ),
        DrillDown(
            slug="review-queue",
            title="Review queue by reviewer",
            hint="Items waiting for review now, by who is expected to review them: the owner's manager (CX "
            "reviewers for owners without one).",
            kind=ReportKind.REVIEW_HEALTH,
            rows=lambda reports: reports.review_health.queue,
            columns=(
                Column("reviewer", "Expected reviewer", lambda row: row.name),
                Column("waiting", "Waiting", lambda row: row.waiting, numeric=True),
                Column("overdue", "Overdue", lambda row: row.overdue, numeric=True),
                Column("oldest", "Oldest waiting since", lambda row: row.oldest_submitted_at, day),
            ),
            empty="Nothing waits for review.",
        ),
        DrillDown(
            slug="reviewers",
            title="Review turnaround by reviewer",
            hint="Reviews done within the dates, with their turnaround from submission; late ones took longer than "
            "the review deadline.",
            kind=ReportKind.REVIEW_HEALTH,
            rows=lambda reports: reports.review_health.reviewers,
            columns=(
                Column("reviewer", "Reviewer", lambda row: row.name),
                Column("reviews", "Reviews", lambda row: row.reviews, numeric=True),
                Column("median", "Median turnaround", lambda row: row.median_hours, hours, numeric=True),
                Column("p90", "90th percentile", lambda row: row.p90_hours, hours, numeric=True),
                Column("late", "Late", lambda row: row.late, numeric=True),
            ),
            empty="No reviews in the period.",
        ),
        DrillDown(
            slug="silent-units",
            title="Units with no verified evidence",
            hint="Every active unit, whatever its customer layer (no group is excused), whose people brought no "
            "verified evidence in the period. Cycle and ritual filters do not apply.",
            kind=ReportKind.BOUNDARY,
            rows=lambda reports: reports.boundary.silent,
            columns=(
                Column("unit", "Unit", lambda row: row.name),
                Column("code", "Code", lambda row: row.code),
                Column("layer", "Customer layer", lambda row: row.customer_layer, numeric=True),
                Column("headcount", "Headcount", lambda row: row.headcount, numeric=True),
            ),
            empty="Every unit brought verified evidence in the period.",
        ),
        DrillDown(
            slug="blocking",
            title="Requirements that block most cases",
            hint="Open cases as last evaluated; decided cases as they stood at their decision (rejected, or approved "
            "only through an exception).",
            kind=ReportKind.UNMET,
            rows=lambda reports: reports.unmet,
            columns=(
                Column("requirement", "Requirement", lambda row: row.label),
                Column("policy", "Policy", lambda row: f"{row.ritual}: {row.policy} v{row.version}"),
                Column("blocked", "Cases blocked", lambda row: row.blocked, numeric=True),
                Column("open", "Open, short now", lambda row: row.open_blocked, numeric=True),
                Column("rejected", "Rejected, short", lambda row: row.rejected_unmet, numeric=True),
                Column("waived", "Waived by exception", lambda row: row.waived, numeric=True),
                Column("judged", "Cases judged", lambda row: row.judged, numeric=True),
                Column("share", "Blocked share", lambda row: row.blocked_share, pct, numeric=True),
            ),
            empty="No case is judged by a requirement for these filters.",
        ),
        DrillDown(
            slug="insights",
            title="Customer insights: responses by unit",
            hint="Insights routed to each unit's own inbox in the period (by the day they arrived), those answered "
            "by verified evidence, and those answered within the response window (calendar days from arrival to "
            "the verification of the first response). Units with insights but no response at all say so. Cycle "
            "and ritual filters do not apply: insights belong to no case.",
            kind=ReportKind.INSIGHTS,
            rows=lambda reports: reports.insights.units,
            columns=(
                Column("unit", "Unit", lambda row: row.name),
                Column("layer", "Customer layer", lambda row: row.customer_layer, numeric=True),
                Column("received", "Insights received", lambda row: row.figures.received, numeric=True),
                Column("responded", "Responded", lambda row: row.figures.responded, numeric=True),
                Column("in-time", "Responded in time", lambda row: row.figures.in_time, numeric=True),
                Column("share", "Share in time", lambda row: row.figures.share_in_time, pct, numeric=True),
                Column("median", "Median days to response", lambda row: row.figures.median_days, number, numeric=True),
                Column("unanswered", "No response at all", lambda row: row.unanswered, yes_no),
            ),
            empty="No insight reached any unit for these filters. Widen the dates or choose another unit.",
        ),
        DrillDown(
            slug="inventory",
            title="Requirements inventory: what groups add",
            hint="Requirements groups added on top of the baseline, in force on the end date (today without one). "
            "Those many groups chose, and the baseline lacks, are candidates for next year's baseline.",
            kind=ReportKind.INVENTORY,
            rows=lambda reports: reports.inventory,
            columns=(
                Column("group", "Group", lambda row: row.org_unit),
                Column("layer", "Customer layer", lambda row: row.customer_layer, numeric=True),
                Column("ritual", "Ritual", lambda row: row.ritual_type),
                Column("requirement", "Requirement", lambda row: row.description),
                Column("shared", "Groups with it", lambda row: row.shared_by, numeric=True),
                Column("baseline", "In the baseline", lambda row: row.in_baseline, yes_no),
            ),
            empty="No group adds requirements to the baseline for these filters.",
        ),
    )
}
