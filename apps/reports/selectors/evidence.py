"""Evidence reports: the mix of what people bring, review health, and the boundary (who brings nothing)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from apps.evidence.constants import CustomerType, EvidenceStatus, FlagCode, MetricKind
from apps.evidence.models import Evidence
from apps.org.models import Employee, OrgUnit
from apps.org.selectors import OrgTree

from ..filters import ReportFilters
from .scope import evidence_scope, subtree_ids, within
from .sql import HoursBetween, json_elements, run, subquery_sql
from .stats import median, merged, percentile, rate

REVIEWED = (EvidenceStatus.VERIFIED, EvidenceStatus.REJECTED, EvidenceStatus.CHANGES_REQUESTED)
NO_METRIC = "none"
METRIC_LABELS = {
    MetricKind.OPERATIONAL.value: "Operational KPI",
    MetricKind.OUTCOME.value: "Outcome score (NPS, CSAT)",
    NO_METRIC: "No metric",
}


# Evidence mix ---------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class MixRow:
    """One slice of the mix: items submitted for review (any status but draft) and those verified."""

    key: str
    label: str
    items: int = 0
    verified: int = 0
    share: float | None = None  # of all verified items


@dataclass(slots=True)
class EvidenceMix:
    """What kinds of evidence people bring (current items, not drafts, dated within the filter)."""

    items: int
    verified: int
    categories: list[MixRow]
    metrics: list[MixRow]
    customers: list[MixRow]
    flagged_items: int
    flagged_verified: int
    flags: list[MixRow]

    @property
    def flagged_share(self) -> float | None:
        return rate(self.flagged_items, self.items)


def _metric_bucket(is_outcome_category: bool, metric_kind: str) -> str:
    """Outcome scores as the engine sees them (outcome category or outcome metric), else the metric kind."""
    if is_outcome_category or metric_kind == MetricKind.OUTCOME:
        return MetricKind.OUTCOME.value
    if metric_kind == MetricKind.OPERATIONAL:
        return MetricKind.OPERATIONAL.value
    return NO_METRIC


def _finish(rows: dict[str, MixRow], verified: int) -> list[MixRow]:
    for row in rows.values():
        row.share = rate(row.verified, verified)
    return sorted(rows.values(), key=lambda row: (-row.verified, -row.items, row.label))


def evidence_mix(*, filters: ReportFilters, tree: OrgTree) -> EvidenceMix:
    """Shares by category, metric kind and customer type, and gaming flags raised: two queries."""
    items = evidence_scope(filters, tree).filter(is_current=True).exclude(status=EvidenceStatus.DRAFT)
    categories: dict[str, MixRow] = {}
    metrics = {key: MixRow(key, label) for key, label in METRIC_LABELS.items()}
    customers = {choice.value: MixRow(choice.value, str(choice.label)) for choice in CustomerType}
    total = verified = flagged = flagged_verified = 0
    groups = items.values(
        "category__code", "category__name", "category__is_outcome", "metric_kind", "customer_type", "status"
    ).annotate(n=Count("pk"), flagged=Count("pk", filter=~Q(gaming_flags=[])))
    for row in groups:
        n, is_verified = row["n"], row["status"] == EvidenceStatus.VERIFIED
        total += n
        flagged += row["flagged"]
        category = categories.setdefault(row["category__code"], MixRow(row["category__code"], row["category__name"]))
        metric = metrics[_metric_bucket(row["category__is_outcome"], row["metric_kind"])]
        customer = customers.setdefault(row["customer_type"], MixRow(row["customer_type"], row["customer_type"]))
        for slice_ in (category, metric, customer):
            slice_.items += n
            if is_verified:
                slice_.verified += n
        if is_verified:
            verified += n
            flagged_verified += row["flagged"]

    flags: dict[str, MixRow] = {}
    scope_sql, params = subquery_sql(items)
    elements, key = json_elements("e.gaming_flags")
    table = Evidence._meta.db_table
    sql = (
        f"SELECT {key.format(key='code')}, e.status, COUNT(*) FROM {table} e {elements} "  # noqa: S608 - names from code
        f"WHERE e.id IN ({scope_sql}) GROUP BY 1, 2"
    )
    for code, status, n in run(sql, params):
        label = FlagCode(code).label if code in FlagCode.values else str(code).replace("_", " ")
        flag = flags.setdefault(code, MixRow(code, str(label)))
        flag.items += n
        if status == EvidenceStatus.VERIFIED:
            flag.verified += n
    for flag in flags.values():
        flag.share = rate(flag.items, total)
    return EvidenceMix(
        items=total,
        verified=verified,
        categories=_finish(categories, verified),
        metrics=[row for row in _finish(metrics, verified) if row.items],
        customers=[row for row in _finish(customers, verified) if row.items],
        flagged_items=flagged,
        flagged_verified=flagged_verified,
        flags=sorted(flags.values(), key=lambda row: (-row.items, row.label)),
    )


# Review health --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class QueueRow:
    """Items waiting for review, by who is expected to review them: the owner's manager (CX reviewers for
    owners without one)."""

    manager_id: int | None
    name: str
    waiting: int
    overdue: int
    oldest_submitted_at: dt.datetime | None


@dataclass(slots=True)
class ReviewerRow:
    """Reviews done by one reviewer within the dates, with their turnaround in hours."""

    reviewer_id: int | None
    name: str
    reviews: int
    median_hours: float | None
    p90_hours: float | None
    late: int  # took longer than the review deadline


@dataclass(slots=True)
class ReviewHealth:
    """Is review keeping up? The queue now, and turnaround of the reviews done within the dates."""

    overdue_days: int
    waiting: int
    overdue: int
    oldest_submitted_at: dt.datetime | None
    reviews: int
    median_hours: float | None
    p90_hours: float | None
    late: int
    queue: list[QueueRow]
    reviewers: list[ReviewerRow]
    histogram: Counter[float] = field(default_factory=Counter)  # whole hours -> reviews


def _person(first: str | None, last: str | None, username: str | None) -> str:
    name = f"{first or ''} {last or ''}".strip()
    return name or username or "a former user"


def review_health(*, filters: ReportFilters, tree: OrgTree, now: dt.datetime | None = None) -> ReviewHealth:
    """The review queue by expected reviewer and turnaround by reviewer: two queries."""
    now = now or timezone.now()
    overdue_days = settings.REPORTS_REVIEW_OVERDUE_DAYS
    cutoff = now - dt.timedelta(days=overdue_days)
    late_after = overdue_days * 24
    scope = evidence_scope(filters, tree, date_field=None)

    waiting_rows = (
        scope.filter(status=EvidenceStatus.SUBMITTED, is_current=True)
        .values("owner__manager_id", "owner__manager__full_name")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(submitted_at__lt=cutoff)), oldest=Min("submitted_at"))
    )
    queue = [
        QueueRow(
            manager_id=row["owner__manager_id"],
            name=row["owner__manager__full_name"] or "CX reviewers (owner has no manager)",
            waiting=row["n"],
            overdue=row["overdue"],
            oldest_submitted_at=row["oldest"],
        )
        for row in waiting_rows
    ]
    queue.sort(key=lambda row: (-row.overdue, -row.waiting, row.name))

    reviewed = (
        within(scope, "reviewed_at", filters.date_from, filters.date_to)
        .filter(status__in=REVIEWED, submitted_at__isnull=False, reviewed_at__gte=F("submitted_at"))
        .annotate(hours=HoursBetween("submitted_at", "reviewed_at"))
        .values("reviewer_id", "reviewer__first_name", "reviewer__last_name", "reviewer__username", "hours")
        .annotate(n=Count("pk"))
    )
    by_reviewer: dict[int | None, Counter[float]] = defaultdict(Counter)
    names: dict[int | None, str] = {}
    for row in reviewed:
        by_reviewer[row["reviewer_id"]][row["hours"]] += row["n"]
        names[row["reviewer_id"]] = _person(row["reviewer__first_name"], row["reviewer__last_name"],
                                            row["reviewer__username"])  # fmt: skip
    reviewers = [
        ReviewerRow(
            reviewer_id=reviewer_id,
            name=names[reviewer_id],
            reviews=sum(histogram.values()),
            median_hours=median(histogram),
            p90_hours=percentile(histogram, 0.9),
            late=sum(n for hours, n in histogram.items() if hours >= late_after),
        )
        for reviewer_id, histogram in by_reviewer.items()
    ]
    reviewers.sort(key=lambda row: (-row.late, -row.reviews, row.name))
    everything = merged(*by_reviewer.values())
    return ReviewHealth(
        overdue_days=overdue_days,
        waiting=sum(row.waiting for row in queue),
        overdue=sum(row.overdue for row in queue),
        oldest_submitted_at=min((r.oldest_submitted_at for r in queue if r.oldest_submitted_at), default=None),
        reviews=sum(everything.values()),
        median_hours=median(everything),
        p90_hours=percentile(everything, 0.9),
        late=sum(row.late for row in reviewers),
        queue=queue,
        reviewers=reviewers,
        histogram=everything,
    )


# Boundary -------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class BoundaryUnit:
    """One active unit, its active headcount and its people's verified evidence in the period."""

    unit_id: int
    name: str
    code: str
    customer_layer: int
    headcount: int
    verified: int


@dataclass(slots=True)
class BoundaryLayer:
    """How many units of a customer layer take part (have verified evidence in the period)."""

    customer_layer: int
    units: int
    taking_part: int
    silent: int
    silent_headcount: int

    @property
    def share_taking_part(self) -> float | None:
        return rate(self.taking_part, self.units)


@dataclass(slots=True)
class BoundaryReport:
    """Where the customer focus stops: units (any layer, no group excused) with no verified evidence."""

    date_from: dt.date
    date_to: dt.date
    layers: list[BoundaryLayer]
    silent: list[BoundaryUnit]
    units: list[BoundaryUnit]


def boundary_period(filters: ReportFilters, today: dt.date) -> tuple[dt.date, dt.date]:
    """The filter's dates, or the last REPORTS_BOUNDARY_DEFAULT_DAYS days up to today."""
    end = filters.date_to or today
    start = filters.date_from or end - dt.timedelta(days=settings.REPORTS_BOUNDARY_DEFAULT_DAYS - 1)
    return start, end


def boundary_report(*, filters: ReportFilters, tree: OrgTree, today: dt.date | None = None) -> BoundaryReport:
    """Every active unit of the subtree with its headcount and verified evidence in the period: three queries
    (the units, then headcount and evidence each grouped by unit in one pass; correlated counts per unit would
    rescan the evidence table once per unit).

    Cycle and ritual filters do not apply: the question is whether a group takes part at all.
    """
    start, end = boundary_period(filters, today or timezone.localdate())
    units = OrgUnit.objects.filter(active=True)
    ids = subtree_ids(filters, tree)
    if ids is not None:
        units = units.filter(pk__in=ids)
    rows = list(units.order_by("customer_layer", "name", "pk").values("pk", "name", "code", "customer_layer"))
    unit_ids = units.values("pk")
    headcount = dict(
        Employee.objects.filter(org_unit_id__in=unit_ids, active=True)
        .order_by()
        .values_list("org_unit_id")
        .annotate(n=Count("pk"))
    )
    verified = dict(
        Evidence.objects.filter(
            owner__org_unit_id__in=unit_ids,
            is_current=True,
            status=EvidenceStatus.VERIFIED,
            impact_date__gte=start,
            impact_date__lte=end,
        )
        .order_by()
        .values_list("owner__org_unit_id")
        .annotate(n=Count("pk"))
    )
    all_units = [
        BoundaryUnit(
            unit_id=row["pk"],
            name=row["name"],
            code=row["code"],
            customer_layer=row["customer_layer"],
            headcount=headcount.get(row["pk"], 0),
            verified=verified.get(row["pk"], 0),
        )
        for row in rows
    ]
    layers: dict[int, BoundaryLayer] = {}
    for unit in all_units:
        layer = layers.setdefault(unit.customer_layer, BoundaryLayer(unit.customer_layer, 0, 0, 0, 0))
        layer.units += 1
        if unit.verified:
            layer.taking_part += 1
        else:
            layer.silent += 1
            layer.silent_headcount += unit.headcount
    return BoundaryReport(
        date_from=start,
        date_to=end,
        layers=[layers[key] for key in sorted(layers)],
        silent=[unit for unit in all_units if not unit.verified],
        units=all_units,
    )
