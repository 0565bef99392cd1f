"""Each report as export sections (title, columns, rows): the one place that names the exported columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .constants import ReportKind
from .renderers import Chart, Section
from .selectors import CaseDetail, ComplianceFigures, MonitorFigures, Reports

FIGURE_COLUMNS = (
    "cases", "decided", "compliant at decision", "compliance at decision (%)", "approved",
    "approved with exception", "exception rate (%)", "rejected", "withdrawn", "open", "open short of policy",
    "open not yet evaluated", "median verified evidence per case",
)  # fmt: skip
# The figures the summary's native charts draw (XLSX).
RATE_COLUMNS = ("compliance at decision (%)", "exception rate (%)")


def percent(value: float | None) -> float | None:
    """A fraction as a percentage with one decimal (None stays empty)."""
    return None if value is None else round(value * 100, 1)


def figure_cells(f: ComplianceFigures) -> list[Any]:
    return [
        f.cases, f.decided, f.compliant_at_decision, percent(f.compliance_rate), f.approved,
        f.approved_with_exception, percent(f.exception_rate), f.rejected, f.withdrawn, f.open, f.open_short,
        f.open_unevaluated, f.median_verified_evidence,
    ]  # fmt: skip


def compliance_sections(reports: Reports) -> list[Section]:
    report = reports.compliance
    unit_columns = ("unit", "depth", "customer layer", *FIGURE_COLUMNS, "cases of the unit itself")
    return [
        Section(
            "Compliance by cycle",
            ("cycle", "ritual", "opens on", *FIGURE_COLUMNS),
            [[r.name, r.ritual, r.opens_on, *figure_cells(r.figures)] for r in report.cycles],
            chart=Chart("Compliance by cycle", category="cycle", values=RATE_COLUMNS),
        ),
        Section(
            "Compliance by unit",
            unit_columns,
            [[r.name, r.depth, r.customer_layer, *figure_cells(r.figures), r.own.cases] for r in report.units],
        ),
        Section(
            "Compliance by layer",
            ("customer layer", "units with cases", *FIGURE_COLUMNS),
            [[r.customer_layer, r.units, *figure_cells(r.figures)] for r in report.layers],
            chart=Chart("Compliance by customer layer", category="customer layer", values=RATE_COLUMNS),
        ),
        Section(
            "Compliance by cycle and unit",
            ("cycle", *unit_columns),
            [
                [
                    report.cycle_name(r.cycle_id),
                    r.name,
                    r.depth,
                    r.customer_layer,
                    *figure_cells(r.figures),
                    r.own.cases,
                ]  # fmt: skip
                for r in report.cycle_units
            ],
        ),
        Section(
            "Compliance by cycle and layer",
            ("cycle", "customer layer", "units with cases", *FIGURE_COLUMNS),
            [
                [report.cycle_name(r.cycle_id), r.customer_layer, r.units, *figure_cells(r.figures)]
                for r in report.cycle_layers
            ],
        ),
    ]


def evidence_mix_sections(reports: Reports) -> list[Section]:
    mix = reports.evidence_mix
    columns = ("items submitted", "verified", "share of verified (%)")

    def rows(slices: list) -> list[list[Any]]:
        return [[s.label, s.items, s.verified, percent(s.share)] for s in slices]

    return [
        Section("Evidence by category", ("category", *columns), rows(mix.categories)),
        Section("Evidence by metric", ("metric", *columns), rows(mix.metrics)),
        Section("Evidence by customer", ("customer", *columns), rows(mix.customers)),
        Section(
            "Gaming flags",
            ("flag", "items flagged", "of which verified", "share of items submitted (%)"),
            [
                ["Any flag", mix.flagged_items, mix.flagged_verified, percent(mix.flagged_share)],
                *([f.label, f.items, f.verified, percent(f.share)] for f in mix.flags),
            ],
        ),
    ]


def review_health_sections(reports: Reports) -> list[Section]:
    health = reports.review_health
    return [
        Section(
            "Review health",
            ("figure", "value"),
            [
                ["items waiting for review", health.waiting],
                [f"waiting longer than {health.overdue_days} days", health.overdue],
                ["oldest waiting since", health.oldest_submitted_at],
                ["reviews done", health.reviews],
                ["median turnaround (hours)", health.median_hours],
                ["90th percentile turnaround (hours)", health.p90_hours],
                [f"reviews that took longer than {health.overdue_days} days", health.late],
            ],
        ),
        Section(
            "Review queue by reviewer",
            ("expected reviewer", "waiting", f"overdue (over {health.overdue_days} days)", "oldest waiting since"),
            [[q.name, q.waiting, q.overdue, q.oldest_submitted_at] for q in health.queue],
        ),
        Section(
            "Turnaround by reviewer",
            ("reviewer", "reviews", "median (hours)", "90th percentile (hours)", f"over {health.overdue_days} days"),
            [[r.name, r.reviews, r.median_hours, r.p90_hours, r.late] for r in health.reviewers],
        ),
    ]


def boundary_sections(reports: Reports) -> list[Section]:
    boundary = reports.boundary
    period = f"{boundary.date_from.isoformat()} to {boundary.date_to.isoformat()}"
    return [
        Section(
            "Boundary by layer",
            (
                "customer layer",
                "units",
                "taking part",
                "without verified evidence",
                "their headcount",
                "taking part (%)",
                "period",
            ),  # fmt: skip
            [
                [
                    layer.customer_layer,
                    layer.units,
                    layer.taking_part,
                    layer.silent,
                    layer.silent_headcount,
                    percent(layer.share_taking_part),
                    period,
                ]  # fmt: skip
                for layer in boundary.layers
            ],
        ),
        Section(
            "Units without evidence",
            ("unit", "code", "customer layer", "headcount", "period"),
            [[u.name, u.code, u.customer_layer, u.headcount, period] for u in boundary.silent],
        ),
    ]


def inventory_sections(reports: Reports) -> list[Section]:
    return [
        Section(
            "Requirements inventory",
            (
                "ritual",
                "group",
                "customer layer",
                "version",
                "version status",
                "requirement",
                "kind",
                "groups with the same requirement",
                "already in the baseline",
            ),  # fmt: skip
            [
                [
                    r.ritual_type,
                    r.org_unit,
                    r.customer_layer,
                    r.version_number,
                    r.version_status,
                    r.description,
                    r.kind,
                    r.shared_by,
                    r.in_baseline,
                ]  # fmt: skip
                for r in reports.inventory
            ],
        )
    ]


def unmet_sections(reports: Reports) -> list[Section]:
    return [
        Section(
            "Unmet requirements",
            (
                "rank",
                "requirement",
                "ritual",
                "policy",
                "version",
                "cases blocked",
                "cases judged",
                "blocked (%)",
                "open cases short of it",
                "rejected cases short of it",
                "waived by an exception",
            ),  # fmt: skip
            [
                [
                    rank,
                    r.label,
                    r.ritual,
                    r.policy,
                    r.version,
                    r.blocked,
                    r.judged,
                    percent(r.blocked_share),
                    r.open_blocked,
                    r.rejected_unmet,
                    r.waived,
                ]  # fmt: skip
                for rank, r in enumerate(reports.unmet, start=1)
            ],
        )
    ]


def monitor_cells(f: MonitorFigures) -> list[Any]:
    return [f.received, f.responded, f.in_time, percent(f.share_in_time), f.median_days]


def insight_sections(reports: Reports) -> list[Section]:
    monitor = reports.insights
    figures = (
        "insights received",
        "responded",
        f"responded within {monitor.response_days} days",
        "responded in time (%)",
        "median days to response",
    )
    return [
        Section(
            "Insights by unit",
            ("unit", "code", "customer layer", *figures, "no response at all"),
            [[r.name, r.code, r.customer_layer, *monitor_cells(r.figures), r.unanswered] for r in monitor.units],
        ),
        Section(
            "Insights by layer",
            ("customer layer", "units with insights", "units with no response", *figures),
            [[r.customer_layer, r.units, r.units_unanswered, *monitor_cells(r.figures)] for r in monitor.layers],
            chart=Chart(
                "Insights answered in time by customer layer",
                category="customer layer",
                values=("responded in time (%)",),
            ),
        ),
    ]


BUILDERS: dict[str, Callable[[Reports], list[Section]]] = {
    ReportKind.COMPLIANCE: compliance_sections,
    ReportKind.EVIDENCE_MIX: evidence_mix_sections,
    ReportKind.REVIEW_HEALTH: review_health_sections,
    ReportKind.BOUNDARY: boundary_sections,
    ReportKind.INVENTORY: inventory_sections,
    ReportKind.UNMET: unmet_sections,
    ReportKind.INSIGHTS: insight_sections,
}


def report_sections(kind: str, reports: Reports) -> list[Section]:
    """The sections of one report, or of every report for SUMMARY."""
    if kind == ReportKind.SUMMARY:
        return [section for builder in BUILDERS.values() for section in builder(reports)]
    return BUILDERS[kind](reports)


def case_sections(detail: CaseDetail) -> list[Section]:
    """The case detail: one section whose rows stream from the database."""
    return [Section("Cases", detail.columns, detail.rows(), text_columns=detail.text_columns)]
