"""Charts drawn on the server as SVG geometry (the templates only place the shapes): no script, no CDN, no font.

Each chart is a plain value with its shapes already positioned in a fixed view box; the page scales it. Every
chart has a text description, and the figures are in the tables next to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .selectors import BoundaryReport, ComplianceFigures, ComplianceReport, EvidenceMix, InsightMonitor

WIDTH = 640
LABEL_WIDTH = 170
BAR_HEIGHT = 24
GAP = 12
PALETTE = 8  # CSS classes series-0 ... series-7


def _pct(value: float | None) -> str:
    return "no decision yet" if value is None else f"{value * 100:.0f}%"


@dataclass(slots=True)
class HBar:
    """One horizontal bar: a label, a 0-1 value and what to print at its end."""

    label: str
    value: float | None
    text: str
    y: int = 0
    width: float = 0.0
    label_y: int = 0


@dataclass(slots=True)
class HBarChart:
    """Horizontal bars on a 0-100% scale."""

    title: str
    description: str
    bars: list[HBar]
    height: int = 0
    plot_width: int = WIDTH - LABEL_WIDTH - 60
    label_width: int = LABEL_WIDTH
    ticks: list[tuple[float, str]] = field(default_factory=list)
    empty: str = "No decided cases for these filters yet."


def hbar_chart(title: str, description: str, bars: list[HBar], empty: str | None = None) -> HBarChart:
    chart = HBarChart(title=title, description=description, bars=bars)
    if empty:
        chart.empty = empty
    for index, bar in enumerate(bars):
        bar.y = 24 + index * (BAR_HEIGHT + GAP)
        bar.label_y = bar.y + BAR_HEIGHT // 2 + 5
        bar.width = round(max(bar.value or 0.0, 0.0) * chart.plot_width, 1)
    chart.height = 24 + len(bars) * (BAR_HEIGHT + GAP) + 4
    chart.ticks = [(round(LABEL_WIDTH + share * chart.plot_width, 1), f"{share * 100:.0f}%") for share in
                   (0, 0.25, 0.5, 0.75, 1)]  # fmt: skip
    return chart


def compliance_by_unit_chart(report: ComplianceReport) -> HBarChart:
    """Compliance at decision of the units just below the top of the (filtered) tree."""
    top_depth = 1 if sum(1 for row in report.units if row.depth == 1) else 0
    rows = [row for row in report.units if row.depth == top_depth][:12]
    bars = [
        HBar(
            label=row.name,
            value=row.figures.compliance_rate,
            text=f"{_pct(row.figures.compliance_rate)} ({row.figures.compliant_at_decision} of {row.figures.decided})",
        )
        for row in rows
    ]
    return hbar_chart(
        "Compliance at decision by unit",
        "Share of decided cases that met their policy at decision, for each unit with its sub-units.",
        bars,
    )


def _compliance_bar(label: str, f: ComplianceFigures) -> HBar:
    return HBar(label=label, value=f.compliance_rate,
                text=f"{_pct(f.compliance_rate)} ({f.compliant_at_decision} of {f.decided})")  # fmt: skip


def compliance_by_ritual_chart(rows: list[tuple[str, ComplianceFigures]]) -> HBarChart:
    """Compliance at decision of each ritual (every cycle of it added up)."""
    return hbar_chart(
        "Compliance at decision by ritual",
        "Share of decided cases that met their policy at decision, for each ritual over all its cycles.",
        [_compliance_bar(label, figures) for label, figures in rows[:12]],
    )


def compliance_by_layer_chart(report: ComplianceReport) -> HBarChart:
    """Compliance at decision of each customer layer: do back-office groups take part?"""
    return hbar_chart(
        "Compliance at decision by customer layer",
        "Share of decided cases that met their policy at decision, for each customer layer (0 touches external "
        "customers, 1 serves layer 0, and so on).",
        [_compliance_bar(f"Layer {row.customer_layer}", row.figures) for row in report.layers[:12]],
    )


def taking_part_chart(boundary: BoundaryReport) -> HBarChart:
    """Per customer layer, the share of active units whose people brought verified evidence in the period."""
    bars = [
        HBar(
            label=f"Layer {layer.customer_layer}",
            value=layer.share_taking_part,
            text=f"{_pct(layer.share_taking_part)} ({layer.taking_part} of {layer.units})",
        )
        for layer in boundary.layers[:12]
    ]
    return hbar_chart(
        "Units taking part by customer layer",
        "Share of active units of each customer layer whose people brought verified evidence in the period; the "
        "others are the units with no verified evidence.",
        bars,
        empty="No active units for these filters.",
    )


@dataclass(slots=True)
class Column:
    """One bar of a column chart."""

    x: float
    y: float
    width: float
    height: float
    series: int
    text: str
    shown: bool = True  # False when the figure is undefined (no bar, no label)

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(slots=True)
class ColumnGroup:
    label: str
    x: float
    columns: list[Column]


@dataclass(slots=True)
class ColumnChart:
    """Grouped vertical bars on a 0-100% scale (one group per cycle)."""

    title: str
    description: str
    groups: list[ColumnGroup]
    legend: list[tuple[int, str]]
    width: int = WIDTH
    height: int = 260
    plot_top: int = 20
    plot_bottom: int = 210
    ticks: list[tuple[float, str]] = field(default_factory=list)


def trend_chart(report: ComplianceReport) -> ColumnChart:
    """Per cycle, oldest first: compliance at decision, and the share of open cases meeting policy now."""
    chart = ColumnChart(
        title="Trend across cycles",
        description="For each cycle: the share of decided cases that met their policy at decision, and the share "
        "of open cases that meet it now (stored compliance).",
        groups=[],
        legend=[(0, "Compliant at decision"), (1, "Open cases meeting policy now")],
    )
    cycles = report.cycles[-8:]
    plot_height = chart.plot_bottom - chart.plot_top
    slot = (WIDTH - 60) / max(len(cycles), 1)
    column_width = min(36.0, slot / 3)
    for index, row in enumerate(cycles):
        f = row.figures
        open_ok = (f.open - f.open_short - f.open_unevaluated) / f.open if f.open else None
        x0 = 50 + index * slot + (slot - 2 * column_width) / 2
        columns = []
        for series, value in enumerate((f.compliance_rate, open_ok)):
            height = round((value or 0.0) * plot_height, 1)
            columns.append(
                Column(
                    x=round(x0 + series * column_width, 1),
                    y=round(chart.plot_bottom - height, 1),
                    width=round(column_width - 2, 1),
                    height=height,
                    series=series,
                    text=_pct(value) if value is not None else "none",
                    shown=value is not None,
                )
            )
        chart.groups.append(ColumnGroup(label=row.name, x=round(x0 + column_width, 1), columns=columns))
    chart.ticks = [(round(chart.plot_bottom - share * plot_height, 1), f"{share * 100:.0f}%") for share in
                   (0, 0.25, 0.5, 0.75, 1)]  # fmt: skip
    return chart


@dataclass(slots=True)
class Segment:
    x: float
    width: float
    series: int
    label: str
    text: str


@dataclass(slots=True)
class StackedBar:
    label: str
    y: int
    segments: list[Segment]


@dataclass(slots=True)
class StackedChart:
    """100% stacked horizontal bars with a legend."""

    title: str
    description: str
    bars: list[StackedBar]
    legend: list[tuple[int, str]]
    height: int = 0
    label_width: int = 110
    plot_width: int = WIDTH - 110 - 10


def evidence_mix_chart(mix: EvidenceMix) -> StackedChart:
    """Verified evidence by category and by kind of metric, as shares of all verified items."""
    chart = StackedChart(
        title="Evidence mix",
        description="Shares of verified evidence by category, by kind of metric (operational KPIs count more than "
        "outcome scores) and by customer (external or internal).",
        bars=[],
        legend=[],
    )
    for index, (label, slices) in enumerate(
        (("By category", mix.categories), ("By metric", mix.metrics), ("By customer", mix.customers))
    ):
        x = float(chart.label_width)
        segments = []
        for position, piece in enumerate(piece for piece in slices if piece.verified):
            series = position % PALETTE
            width = round((piece.share or 0) * chart.plot_width, 1)
            segments.append(Segment(x=round(x, 1), width=width, series=series, label=piece.label,
                                    text=f"{piece.label}: {(piece.share or 0) * 100:.0f}%"))  # fmt: skip
            x += width
        chart.bars.append(StackedBar(label=label, y=10 + index * 44, segments=segments))
    chart.height = 10 + len(chart.bars) * 44
    return chart


def insights_answered_chart(monitor: InsightMonitor) -> HBarChart:
    """Units answering their customers: per customer layer, the share of insights answered within the window."""
    bars = [
        HBar(
            label=f"Layer {layer.customer_layer}",
            value=layer.figures.share_in_time,
            text=f"{_pct(layer.figures.share_in_time)} ({layer.figures.in_time} of {layer.figures.received})",
        )
        for layer in monitor.layers[:12]
    ]
    return hbar_chart(
        "Units answering their customers",
        f"Share of the customer insights routed to the units of each customer layer that a verified response "
        f"answered within {monitor.response_days} days.",
        bars,
        empty="No customer insight reached any unit for these filters.",
    )
