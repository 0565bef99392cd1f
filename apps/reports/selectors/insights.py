"""The insight monitor: does each group answer what its customers tell it, and how fast?

Per unit and per customer layer: insights received (routed to the unit's inbox in the period), those responded
(a verified evidence item answers them), those responded within `settings.INSIGHTS_RESPONSE_DAYS` days, the share
answered in time and the median days to a response; and the units that received insights but answered none.

One aggregate query whatever the number of insights: routes are grouped by unit and by the number of calendar days
from routing to response, so each unit's durations arrive as a histogram (a few dozen rows per unit at most) and the
medians come from `stats.median`, exact and additive for the layer totals. The org tree is read once more only to
resolve a unit filter, unless the caller passes it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Case, Count, DurationField, ExpressionWrapper, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.insights.models import InsightRoute
from apps.org.selectors import OrgTree, org_tree_get

from ..filters import ReportFilters
from .stats import median, merged, rate


@dataclass(slots=True)
class MonitorFigures:
    """Received, responded and responded in time, with the days-to-response histogram behind the median."""

    received: int = 0
    responded: int = 0
    in_time: int = 0
    days: Counter[float] = field(default_factory=Counter)

    @property
    def share_in_time(self) -> float | None:
        """Insights answered within the response window, of all received (None when nothing arrived)."""
        return rate(self.in_time, self.received)

    @property
    def share_responded(self) -> float | None:
        return rate(self.responded, self.received)

    @property
    def median_days(self) -> float | None:
        """Median calendar days from routing to the verified response, of the insights responded."""
        return median(self.days)

    def add(self, other: MonitorFigures) -> None:
        self.received += other.received
        self.responded += other.responded
        self.in_time += other.in_time
        self.days = merged(self.days, other.days)


@dataclass(slots=True)
class MonitorUnitRow:
    """One unit's own inbox (insights routed to the unit itself, not to the units under it)."""

    unit_id: int
    code: str
    name: str
    customer_layer: int
    figures: MonitorFigures = field(default_factory=MonitorFigures)

    @property
    def unanswered(self) -> bool:
        """Insights arrived and none was answered."""
        return self.figures.received > 0 and self.figures.responded == 0


@dataclass(slots=True)
class MonitorLayerRow:
    """Every unit of one customer layer added up."""

    customer_layer: int
    units: int = 0
    units_unanswered: int = 0
    figures: MonitorFigures = field(default_factory=MonitorFigures)


@dataclass(slots=True)
class InsightMonitor:
    """The monitor for one set of filters: unit rows (most insights first), layer rows (layer order), the total."""

    as_of: dt.date
    response_days: int
    date_from: dt.date | None
    date_to: dt.date | None
    units: list[MonitorUnitRow]
    layers: list[MonitorLayerRow]
    total: MonitorFigures

    @property
    def unanswered(self) -> list[MonitorUnitRow]:
        """Units with insights but no response, most insights first."""
        return [row for row in self.units if row.unanswered]


def insight_monitor(
    *, filters: ReportFilters, as_of: dt.date | None = None, tree: OrgTree | None = None
) -> InsightMonitor:
    """Response figures of every unit that received insights in the filter's period, as they stood on `as_of`
    (today by default): routes routed after it are left out and responses verified after it do not count yet.

    The unit filter takes the unit and everything under it; cycle and ritual filters do not apply (insights belong
    to no case). One query, two when a unit filter needs the org tree.
    """
    as_of = as_of or timezone.localdate()
    window = int(settings.INSIGHTS_RESPONSE_DAYS)
    routes = InsightRoute.objects.filter(routed_at__date__lte=as_of)
    if filters.unit_id is not None:
        routes = routes.filter(unit_id__in=(tree or org_tree_get()).descendants(filters.unit_id))
    if filters.date_from is not None:
        routes = routes.filter(routed_at__date__gte=filters.date_from)
    if filters.date_to is not None:
        routes = routes.filter(routed_at__date__lte=filters.date_to)
    # Calendar days in the site's time zone: "answered within 14 days" is how people count, not in hours.
    days = ExpressionWrapper(TruncDate("responded_at") - TruncDate("routed_at"), output_field=DurationField())
    # A response verified after `as_of` did not exist yet: the route counts as unanswered.
    wait = Case(When(responded_at__date__lte=as_of, then=days), default=None, output_field=DurationField())
    grouped = (
        routes.annotate(wait=wait)
        .values("unit_id", "unit__code", "unit__name", "unit__customer_layer", "wait")
        .annotate(n=Count("pk"))
        .order_by()
    )

    units: dict[int, MonitorUnitRow] = {}
    for row in grouped:
        unit = units.get(row["unit_id"])
        if unit is None:
            unit = units[row["unit_id"]] = MonitorUnitRow(
                row["unit_id"], row["unit__code"], row["unit__name"], row["unit__customer_layer"]
            )
        n, waited_for = row["n"], row["wait"]
        figures = unit.figures
        figures.received += n
        if waited_for is None:
            continue
        waited = max(waited_for.days, 0)  # a response is never before its routing; clock skew must not make it so
        figures.responded += n
        figures.days[float(waited)] += n
        if waited <= window:
            figures.in_time += n

    layers: dict[int, MonitorLayerRow] = {}
    total = MonitorFigures()
    for unit in units.values():
        layer = layers.setdefault(unit.customer_layer, MonitorLayerRow(unit.customer_layer))
        layer.units += 1
        layer.units_unanswered += unit.unanswered
        layer.figures.add(unit.figures)
        total.add(unit.figures)
    return InsightMonitor(
        as_of=as_of,
        response_days=window,
        date_from=filters.date_from,
        date_to=filters.date_to,
        units=sorted(units.values(), key=lambda row: (-row.figures.received, row.name.casefold(), row.unit_id)),
        layers=[layers[key] for key in sorted(layers)],
        total=total,
    )
