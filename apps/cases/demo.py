"""Demo cycles and cases for `seed_demo`: every case status, an approval route, exceptions and delegations."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from apps.evidence.constants import CustomerType, EvidenceStatus, MetricKind, SourceType
from apps.evidence.models import Evidence
from apps.org.models import Employee, OrgUnit
from apps.policies.models import EvidenceCategory, RitualType

from .constants import CaseStatus, StepRole
from .models import ApprovalRoute, ApprovalStep, Case, Cycle, Delegation
from .services import (
    case_attest,
    case_exception_decide,
    case_exception_request,
    case_open_many,
    case_refresh_compliance,
    case_step_decide,
    case_withdraw,
)

JUSTIFICATION = (
    "She led the night-shift desk through the system migration alone; her customer work is real but was "
    "not written down as stories this year, and her manager vouches for it."
)


def _strong_evidence(employee: Employee, categories: dict[str, EvidenceCategory], today: dt.date) -> None:
    """What a promotion baseline asks for: two stories, a KPI improvement and a sourced quote, all verified."""
    base = {
        "owner": employee,
        "status": EvidenceStatus.VERIFIED,
        "customer_type": CustomerType.EXTERNAL,
        "created_by": employee.user,
        "submitted_at": timezone.now() - dt.timedelta(days=12),
        "reviewed_at": timezone.now() - dt.timedelta(days=10),
        "review_comment": "Checked with the guest file.",
    }
    Evidence.objects.bulk_create(
        [
            Evidence(**base, category=categories["customer_story"], title="Rebuilt the accessible-room filter",
                     customer_quote="I could not book a room for my wheelchair.", source_type=SourceType.SUPPORT_TICKET,
                     source_reference="TCK-4411", interpretation="Accessible rooms were invisible online.",
                     response="Fixed the filter and called the guest back.", impact_date=today - dt.timedelta(days=40)),
            Evidence(**base, category=categories["customer_story"], title="Late check-out in the app",
                     customer_quote="Why must I call for a late check-out?", source_type=SourceType.INTERVIEW,
                     source_reference="Guest interview 2026-08-02", interpretation="Guests waste time on a formality.",
                     response="Added automatic late check-out below 80% occupancy.",
                     impact_date=today - dt.timedelta(days=90)),
            Evidence(**base, category=categories["operational_kpi"], title="First-contact resolution at the desk",
                     interpretation="Guests had to come back twice.", response="Gave the desk refund authority.",
                     metric_name="First-contact resolution", metric_kind=MetricKind.OPERATIONAL,
                     baseline=Decimal(61), result=Decimal(74), metric_unit="%", direction="increase",
                     metric_period="Q1 vs Q3", impact_date=today - dt.timedelta(days=30)),
        ]
    )  # fmt: skip


def seed_cases(
    *,
    units: dict[str, OrgUnit],
    heads: dict[str, Employee],
    users: dict[str, User],
    today: dt.date,
    rng: random.Random,
) -> dict[str, int]:
    """Create cycles, a promotion route and cases in every status; return counts by status."""
    rituals = {ritual.code: ritual for ritual in RitualType.objects.all()}
    categories = {category.code: category for category in EvidenceCategory.objects.all()}
    route = ApprovalRoute.objects.create(ritual_type=rituals["promotion"], name="Promotion: manager, then HR")
    ApprovalStep.objects.create(route=route, order=1, name="Manager recommends", role=StepRole.MANAGER)
    ApprovalStep.objects.create(route=route, order=2, name="HR approves", role=StepRole.HR)
    Delegation.objects.create(
        principal=users["hr"], delegate=users["hr2"], starts_on=today + dt.timedelta(days=20),
        ends_on=today + dt.timedelta(days=34), reason="Annual leave",
    )  # fmt: skip

    def cycle(code: str, name: str, opened: int, evidence: int, decision: int) -> Cycle:
        return Cycle.objects.create(
            ritual_type=rituals[code],
            name=name,
            opens_on=today - dt.timedelta(days=opened),
            evidence_deadline=today + dt.timedelta(days=evidence),
            decision_deadline=today + dt.timedelta(days=decision),
        )

    promotions = cycle("promotion", f"Promotions {today.year}-H2", 60, 14, 45)
    bonuses = cycle("bonus", f"Bonuses {today.year}", 30, 7, 30)
    budgets = cycle("budget-expansion", f"Budget expansion {today.year + 1}", 20, 40, 70)
    hiring = cycle("hiring", f"Hiring {today.year}-Q4", 50, 30, 60)

    front_desk = list(
        Employee.objects.filter(org_unit=units["front-desk"], manager=heads["front-desk"]).select_related("user")
    )
    others = list(Employee.objects.exclude(org_unit=units["front-desk"]).exclude(pk__in=[h.pk for h in heads.values()]))
    rng.shuffle(others)
    strong = [p for p in front_desk if p.user_id is None][:3]
    for person in strong:
        _strong_evidence(person, categories, today)

    promotion_subjects = front_desk + others[:40]
    cases = case_open_many(
        cycle=promotions,
        subjects=[{"subject_employee": p, "nominated_by": p.manager} for p in promotion_subjects],
        today=today - dt.timedelta(days=20),
    )
    by_subject = {case.subject_employee_id: case for case in cases}

    manager, hr, hr2 = users["manager"], users["hr"], users["hr2"]
    # Approved: compliant, manager attested and recommended, HR approved (a small demo may have fewer people).
    for person in strong[:2]:
        case = by_subject[person.pk]
        case_attest(case=case, by=manager, role="manager", note="I saw this work every week.")
        case_step_decide(case=case, by=manager, decision="approve", comment="Recommend.", today=today)
        case_step_decide(case=case, by=hr, decision="approve", comment="Criteria met.", today=today)
    # Open and compliant, waiting for HR.
    if len(strong) >= 3:
        waiting = by_subject[strong[2].pk]
        case_attest(case=waiting, by=manager, role="manager", note="Consistent customer focus.")
        case_step_decide(case=waiting, by=manager, decision="approve", comment="Recommend.", today=today)

    rest = [p for p in front_desk if p not in strong and p.user_id is None]
    if len(rest) >= 3:
        # Approved with an exception: requested by the manager, granted by another HR person, approved by HR.
        excepted = by_subject[rest[0].pk]
        case_step_decide(case=excepted, by=manager, decision="approve", comment="Recommend despite gaps.", today=today)
        waived = [r.pk for r in Case.objects.get(pk=excepted.pk).pinned_versions.get(policy__scope__isnull=True)
                  .requirements.exclude(kind="outcome_cap")]  # fmt: skip
        request = case_exception_request(
            case=excepted, by=manager, justification=JUSTIFICATION, waived_requirement_ids=waived
        )
        case_exception_decide(exception=request, by=hr2, grant=True, note="Four eyes: checked with her director.")
        case_step_decide(case=excepted, by=hr, decision="approve", comment="Approved with the exception.", today=today)
        # Rejected by the manager, with a note.
        case_step_decide(case=by_subject[rest[1].pk], by=manager, decision="reject",
                         comment="Not yet: no customer evidence this cycle.", today=today)  # fmt: skip
        # An exception request waiting for HR.
        pending = by_subject[rest[2].pk]
        case_exception_request(case=pending, by=manager, justification=JUSTIFICATION,
                               waived_requirement_ids=waived[:1])  # fmt: skip
    if len(rest) >= 4:
        case_withdraw(case=by_subject[rest[3].pk], by=hr, note="Moved to another role before the cycle ended.")

    digital = [p for p in others if p.org_unit.code in {"booking-platform", "mobile-app", "product-management"}][:15]
    case_open_many(cycle=bonuses, subjects=[{"subject_employee": p, "nominated_by": p.manager} for p in digital])
    case_open_many(
        cycle=budgets,
        subjects=[
            {"subject_unit": units[code], "nominated_by": heads[code]} for code in ("contact-centre", "housekeeping")
        ],
    )
    case_open_many(
        cycle=hiring,
        subjects=[
            {
                "candidate_name": "Amara Nwosu",
                "candidate_email": "amara.nwosu@example.net",
                "nominated_by": heads["front-desk"],
            },
            {
                "candidate_name": "Luis Fernández",
                "candidate_email": "luis.fernandez@example.net",
                "nominated_by": heads["contact-centre"],
            },
        ],  # fmt: skip
        today=today - dt.timedelta(days=10),
    )
    case_refresh_compliance(case_ids=list(Case.objects.open().values_list("pk", flat=True)), today=today)
    counts: dict[str, int] = {}
    for status in Case.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return {CaseStatus(status).label: count for status, count in sorted(counts.items())}
