"""Demo evidence for `seed_demo`: realistic items in every status, a few flagged for score solicitation."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from apps.org.models import Employee, OrgUnit, Touchpoint
from apps.policies.models import EvidenceCategory

from .constants import CustomerType, EvidenceStatus, MetricKind, SourceType
from .gaming import gaming_flags
from .models import Evidence
from .services import evidence_verify

STORIES = [
    (
        "Rebuilt the accessible-room filter",
        "I could not find a room for my wheelchair on your site.",
        "Accessible rooms were invisible online, so guests phoned or went elsewhere.",
        "Fixed the filter with the booking-platform team and called the guest back to book.",
    ),
    (
        "Late check-out without a phone call",
        "Why do I have to call to ask for a late check-out?",
        "Guests waste time on a request we grant 90% of the time.",
        "Added late check-out to the app with automatic approval below 80% occupancy.",
    ),
    (
        "Corporate invoices with the PO number",
        "Our accounts team rejects every invoice without our PO number.",
        "Corporate clients paid late because our invoices failed their checks.",
        "Added the PO number to invoices and re-issued the open ones.",
    ),
    (
        "Quiet rooms for night-shift guests",
        "I work nights and housekeeping knocks at 10 am every day.",
        "Night-shift guests lose sleep to a schedule built for day guests.",
        "Introduced a 'sleeping late' door sign and a housekeeping flag in the room system.",
    ),
]
KPIS = [
    ("First-contact resolution on the phone line", "First-contact resolution", "%", "increase", 61, 74),
    ("Room-ready handoff from housekeeping", "Minutes from clean to status update", "min", "decrease", 20, 2),
    ("Invoice disputes", "Disputed invoices per month", "invoices", "decrease", 38, 9),
    ("Time to onboard a corporate account", "Days to first booking", "days", "decrease", 21, 8),
]
SOLICITATIONS = [
    "At check-out I reminded guests to give us a 10 on the survey.",
    "Asked each caller: any reason you can't give me a ten today?",
]


def _story(rng: random.Random) -> dict[str, object]:
    title, quote, meaning, action = rng.choice(STORIES)
    return {
        "category_code": rng.choice(["customer_story", "customer_voice", "recurrence_prevention",
                                     "omnichannel_consistency", "silo_bridging"]),
        "title": title, "customer_quote": quote, "interpretation": meaning, "response": action,
        "source_type": rng.choice([s.value for s in SourceType]), "source_reference": f"TCK-{rng.randint(1000, 99999)}",
    }  # fmt: skip


def _kpi(rng: random.Random) -> dict[str, object]:
    title, metric, unit, direction, before, after = rng.choice(KPIS)
    return {
        "category_code": "operational_kpi", "title": title, "interpretation": f"{metric} was hurting customers.",
        "response": "Changed the process with the teams involved and measured for a quarter.",
        "metric_name": metric, "metric_kind": MetricKind.OPERATIONAL, "metric_unit": unit, "direction": direction,
        "baseline": Decimal(before), "result": Decimal(after), "metric_period": "Q1 vs Q3",
    }  # fmt: skip


def _score(rng: random.Random) -> dict[str, object]:
    return {
        "category_code": "outcome_score", "title": "CSAT of the concierge desk",
        "interpretation": "Guests rated the desk higher.", "response": rng.choice(SOLICITATIONS),
        "metric_name": "CSAT", "metric_kind": MetricKind.OUTCOME, "metric_unit": "points", "direction": "increase",
        "baseline": Decimal("4.1"), "result": Decimal("4.4"), "metric_period": "H1",
    }  # fmt: skip


def seed_evidence(
    *,
    employees: list[Employee],
    units: dict[str, OrgUnit],
    reviewer: User,
    rng: random.Random,
    showcase: Employee | None = None,
) -> dict[str, int]:
    """Create 2-5 items per employee, plus one in each status for `showcase`; return counts by status."""
    categories = {c.code: c for c in EvidenceCategory.objects.all()}
    touchpoints = list(Touchpoint.objects.all())
    internal_units = [u for code, u in units.items() if code != "acme"]
    today = timezone.localdate()
    now = timezone.now()
    statuses = [EvidenceStatus.VERIFIED] * 6 + [
        EvidenceStatus.SUBMITTED, EvidenceStatus.SUBMITTED, EvidenceStatus.DRAFT,
        EvidenceStatus.CHANGES_REQUESTED, EvidenceStatus.REJECTED,
    ]  # fmt: skip
    plan: list[tuple[Employee, str, object]] = []
    for employee in employees:
        for _ in range(rng.randint(2, 5)):
            plan.append((employee, rng.choice(statuses), rng.choices([_story, _kpi, _score], weights=[6, 3, 1])[0]))
    if showcase is not None:
        plan += [(showcase, status, _story) for status in EvidenceStatus] + [
            (showcase, EvidenceStatus.VERIFIED, _kpi),
            (showcase, EvidenceStatus.SUBMITTED, _score),
        ]
    rows: list[Evidence] = []
    for employee, status, maker in plan:
        data = maker(rng)  # type: ignore[operator]
        category = categories[str(data.pop("category_code"))]
        internal = employee.org_unit.customer_layer > 0 and rng.random() < 0.6
        impact = today - dt.timedelta(days=rng.randint(5, 500))
        item = Evidence(
            owner=employee,
            category=category,
            customer_type=CustomerType.INTERNAL if internal else CustomerType.EXTERNAL,
            internal_customer_unit=rng.choice([u for u in internal_units if u.pk != employee.org_unit_id])
            if internal
            else None,
            touchpoint=rng.choice(touchpoints) if not internal and touchpoints else None,
            impact_date=impact,
            status=status,
            created_by=employee.user,
            **data,
        )
        if status != EvidenceStatus.DRAFT:
            item.submitted_at = now - dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 23))
            flags = gaming_flags(
                texts=[item.title, item.customer_quote, item.interpretation, item.response],
                is_outcome=category.is_outcome,
                has_operational_metric=item.metric_kind == MetricKind.OPERATIONAL,
            )
            item.gaming_flags = [flag.as_dict() for flag in flags]
        if status in {EvidenceStatus.VERIFIED, EvidenceStatus.CHANGES_REQUESTED, EvidenceStatus.REJECTED}:
            item.reviewer = reviewer
            item.reviewed_at = (item.submitted_at or now) + dt.timedelta(days=rng.randint(0, 4))
            item.flags_acknowledged = bool(item.gaming_flags) and status == EvidenceStatus.VERIFIED
            item.review_comment = {
                EvidenceStatus.VERIFIED: "Checked the ticket and the figures.",
                EvidenceStatus.CHANGES_REQUESTED: "Please add the ticket number and the result after 3 months.",
                EvidenceStatus.REJECTED: "This describes a team goal, not something you did for a customer.",
            }[EvidenceStatus(status)]
        rows.append(item)
    # One audited bulk insert: demo data at benchmark scale must stay quick.
    Evidence.objects.bulk_create(rows, batch_size=1000)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


def seed_showcase_review(*, owner: Employee, by: User) -> Evidence | None:
    """Verify one of `owner`'s submitted, unflagged items through the review service, so the owner is told of it."""
    submitted = Evidence.objects.filter(owner=owner, status=EvidenceStatus.SUBMITTED, is_current=True).order_by("pk")
    item = next((row for row in submitted if not row.gaming_flags), None)
    if item is None:
        return None
    return evidence_verify(
        evidence=item, by=by, comment="Checked the ticket with the guest file: a clear story, and the fix is live."
    )
