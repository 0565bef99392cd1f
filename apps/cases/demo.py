"""Demo cycles and cases for `seed_demo`: every case status, an approval route, exceptions and delegations.

The HR workbench's showcases are played through the services, as people would on the pages, so the audit trail,
the refused attempts and the notifications (written by the case hooks once the seed commits) are the real ones.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.common.context import Actor, acting_as, new_request_id
from apps.evidence.constants import CustomerType, EvidenceStatus, MetricKind, SourceType
from apps.evidence.models import Evidence
from apps.org.models import Employee, OrgUnit
from apps.policies.models import EvidenceCategory, RitualType

from .constants import CaseStatus, StepRole
from .evaluations import case_refresh_compliance
from .models import ApprovalRoute, ApprovalStep, Case, Cycle, Delegation
from .selectors import case_checklist
from .services import (
    case_attest,
    case_attestation_withdraw,
    case_exception_decide,
    case_exception_request,
    case_open_many,
    case_step_decide,
    case_withdraw,
    refusal_text,
)

T = TypeVar("T")

# Who plays which showcase among the front desk's people without a login, most telling first, so that a small demo
# (a front desk of five) still shows the HR workbench; "strong" ones get the evidence a promotion asks for.
SHOWCASES = (
    "ready_for_hr",
    "exception_waiting",
    "attested",
    "approved_with_exception",
    "attestation_withdrawn",
    "approved",
    "rejected",
    "approved_again",
    "withdrawn",
)
STRONG = frozenset({"ready_for_hr", "attested", "approved", "approved_again"})

HR_JUSTIFICATION = (
    "This colleague ran the front desk's night shift alone for four months while we hired, and the guests helped "
    "are in the shift logs rather than written up as evidence. The manager recommends the promotion; I ask a second "
    "HR to waive what is missing for this cycle only, and two stories will be written up before the next one."
)
JUSTIFICATION = (
    "Led the night-shift desk through the system migration alone; the customer work is real but was "
    "not written down as stories this year, and the manager vouches for it."
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


@contextmanager
def as_person(user: User) -> Iterator[None]:
    """Attribute what the block does to `user`, as one click of theirs on a page (a request id of its own)."""
    with acting_as(Actor(user_id=user.pk, name=user.get_username()), request_id=new_request_id()):
        yield


def _unmet_requirement_ids(case: Case, today: dt.date) -> list[int]:
    """The requirements the case does not meet today: what an exception for it has to waive."""
    return [result.requirement_id for result in case_checklist(case, today=today).unmet]


def _by(user: User, service: Callable[..., T], **kwargs: Any) -> T:
    """Call a service as `user` would from a page: `by=user`, and the audit trail names them."""
    with as_person(user):
        return service(by=user, **kwargs)


def _refused(user: User, service: Callable[..., object], **kwargs: Any) -> str:
    """An attempt of `user`'s the product must refuse (the service puts it on the audit trail); return the refusal."""
    try:
        _by(user, service, **kwargs)
    except (ValidationError, PermissionDenied) as exc:
        return refusal_text(exc)
    raise RuntimeError(f"The demo's refused attempt ({service.__name__}) was accepted: the showcase is wrong.")


def _play_showcases(cast: dict[str, Case], users: dict[str, User], today: dt.date) -> None:
    """Each showcase case goes through the steps people take on the pages, with the services they call."""
    manager, hr, hr2 = users["manager"], users["hr"], users["hr2"]
    approve = {"decision": "approve", "today": today}
    for key in ("approved", "approved_again"):
        # Compliant, the manager attested and recommended, HR approved.
        if key in cast:
            case = cast[key]
            _by(manager, case_attest, case=case, role="manager", note="I saw this work every week.")
            _by(manager, case_step_decide, case=case, comment="Recommend.", **approve)
            _by(hr, case_step_decide, case=case, comment="Criteria met.", **approve)
    if "ready_for_hr" in cast:
        # Compliant and recommended: waits at the HR step ("Cases ready to approve" on the HR home).
        case = cast["ready_for_hr"]
        _by(manager, case_attest, case=case, role="manager", note="Consistent customer focus.")
        _by(manager, case_step_decide, case=case, comment="Recommend.", **approve)
    if "attested" in cast:
        # The manager's attestation makes the case compliant: the manager's step now waits (a notification).
        note = "Turned the guest complaints about late check-out into a fix the whole desk uses."
        _by(manager, case_attest, case=cast["attested"], role="manager", note=note)
    if "attestation_withdrawn" in cast:
        case = cast["attestation_withdrawn"]
        attestation = _by(manager, case_attest, case=case, role="manager", note="Strong quarter at the desk.")
        note = (
            "The handoff figures in the evidence were the team's, not this person's own; I will attest again once "
            "the individual part is shown."
        )
        _by(manager, case_attestation_withdraw, attestation=attestation, note=note)
    if "approved_with_exception" in cast:
        # Requested by the manager, granted by a second person (in HR), then approved by HR.
        case = cast["approved_with_exception"]
        _by(manager, case_step_decide, case=case, comment="Recommend despite gaps.", **approve)
        waived = _unmet_requirement_ids(case, today)
        request = _by(
            manager, case_exception_request, case=case, justification=JUSTIFICATION, waived_requirement_ids=waived
        )
        _by(hr2, case_exception_decide, exception=request, grant=True, note="Four eyes: checked with the director.")
        _by(hr, case_step_decide, case=case, comment="Approved with the exception.", **approve)
    if "exception_waiting" in cast:
        # Short of its policy: the gate refuses HR's approval, HR asks for an exception and may not grant it
        # (four eyes): it waits for hr2, who is notified and sees it on the HR home.
        case = cast["exception_waiting"]
        comment = "Recommend: carried the night shift; the write-ups are missing, not the work."
        _by(manager, case_step_decide, case=case, comment=comment, **approve)
        _refused(hr, case_step_decide, case=case, comment="Approve.", **approve)
        waived = _unmet_requirement_ids(case, today)
        request = _by(
            hr, case_exception_request, case=case, justification=HR_JUSTIFICATION, waived_requirement_ids=waived
        )
        _refused(hr, case_exception_decide, exception=request, grant=True, note="Granting my own request.")
    if "rejected" in cast:
        comment = "Not yet: no customer evidence this cycle."
        _by(manager, case_step_decide, case=cast["rejected"], decision="reject", comment=comment, today=today)
    if "withdrawn" in cast:
        _by(hr, case_withdraw, case=cast["withdrawn"], note="Moved to another role before the cycle ended.")


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
        Employee.objects.filter(org_unit=units["front-desk"], manager=heads["front-desk"])
        .select_related("user")
        .order_by("pk")
    )
    others = list(Employee.objects.exclude(org_unit=units["front-desk"]).exclude(pk__in=[h.pk for h in heads.values()]))
    rng.shuffle(others)
    players = dict(zip(SHOWCASES, [p for p in front_desk if p.user_id is None], strict=False))
    for key, person in players.items():
        if key in STRONG:
            _strong_evidence(person, categories, today)

    promotion_subjects = front_desk + others[:40]
    cases = case_open_many(
        cycle=promotions,
        subjects=[{"subject_employee": p, "nominated_by": p.manager} for p in promotion_subjects],
        today=today - dt.timedelta(days=20),
    )
    by_subject = {case.subject_employee_id: case for case in cases}
    _play_showcases({key: by_subject[person.pk] for key, person in players.items()}, users, today)

    digital = [p for p in others if p.org_unit.code in {"booking-platform", "mobile-app", "product-management"}][:15]
    case_open_many(cycle=bonuses, subjects=[{"subject_employee": p, "nominated_by": p.manager} for p in digital])
    case_open_many(
        cycle=budgets,
        subjects=[
            {"subject_unit": units[code], "nominated_by": heads[code]} for code in ("contact-centre", "housekeeping")
        ],
    )
    # Candidates are told apart by their e-mail: one live case per candidate and cycle.
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
