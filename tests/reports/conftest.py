"""A small company whose every report figure is worked out by hand in docs-like comments and in the tests.

Org (customer layer):  Acme (0) -> Front desk (0); Acme -> Finance (2) -> Payroll (3); Acme -> Legal (2).
Promotion baseline: one verified customer story. Front desk adds: one verified operational KPI item.

Cycle H1 (opened 90 days ago), every case decided:
  A ann (Front desk)  story + KPI verified       -> approved, compliant
  B bob (Front desk)  nothing verified            -> approved with an exception waiving both requirements
  C cat (Payroll)     story verified              -> approved, compliant
  D dan (Payroll)     nothing                     -> rejected (short of the story)
  E eve (Finance)     nothing                     -> withdrawn
Cycle H2 (opened 10 days ago), every case open:
  F fay (Front desk)  story verified, no KPI      -> short (stored compliance refreshed: False)
  G cat (Payroll)     story verified              -> compliant (stored: True)
  H gus (Finance)     one story submitted         -> never evaluated (stored compliance NULL)

Evidence (current; review times in hours from submission):
  ann story   verified by rev1, 10 h     ann KPI (internal customer: Finance) verified by rev1, 30 h
  cat story   verified by rev1, 2 h      fay story verified by rev2, 200 h (late: over 5 days)
  bob story   rejected by rev2, 50 h     fay outcome score: submitted 8 days ago, two gaming flags (waiting, overdue)
  gus story   submitted 1 day ago (waiting)                                       gus draft (never counted)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from apps.cases.models import Case, Cycle
from apps.cases.services import (
    case_exception_decide,
    case_exception_request,
    case_open_many,
    case_refresh_compliance,
    case_step_decide,
    case_withdraw,
)
from apps.common.roles import Role, ensure_role_groups
from apps.evidence.constants import CustomerType, EvidenceStatus, MetricKind
from apps.org.models import Employee, OrgUnit
from apps.policies.models import Requirement, RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from tests.factories.cases import CycleFactory
from tests.factories.evidence import EvidenceFactory, OperationalMetricEvidenceFactory, category
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

JUSTIFICATION = "Bob ran the front desk alone through the winter; his customer work was real but never written."
SOLICITING_QUOTE = "At check-out I reminded guests to give us a 10 on the survey."


@dataclass
class Company:
    """Everything the report tests look at."""

    today: dt.date
    units: dict[str, OrgUnit]
    people: dict[str, Employee]
    users: dict[str, Any]
    h1: Cycle
    h2: Cycle
    cases: dict[str, Case]
    story: Requirement
    kpi: Requirement


def _verified(owner, hours: float, reviewer, now, factory=EvidenceFactory, **extra):
    submitted = now - dt.timedelta(days=20)
    return factory(
        owner=owner,
        status=extra.pop("status", EvidenceStatus.VERIFIED),
        submitted_at=submitted,
        reviewed_at=submitted + dt.timedelta(hours=hours),
        reviewer=reviewer,
        **extra,
    )


def _publish(ritual, scope, today, label, params):
    policy = policy_create(ritual_type=ritual, scope=scope)
    version = policy_version_create(policy=policy, effective_from=today - dt.timedelta(days=365))
    requirement = requirement_add(version=version, kind="min_evidence", params=params, label=label)
    policy_version_publish(version=version, today=version.effective_from)
    return requirement


def build_company() -> Company:
    """Create the company described in the module docstring."""
    today = timezone.localdate()
    now = timezone.now()
    groups = ensure_role_groups()
    acme = OrgUnitFactory(name="Acme", code="acme", customer_layer=0)
    units = {
        "acme": acme,
        "front": OrgUnitFactory(name="Front desk", code="front-desk", parent=acme, customer_layer=0),
        "finance": OrgUnitFactory(name="Finance", code="finance", parent=acme, customer_layer=2),
        "legal": OrgUnitFactory(name="Legal", code="legal", parent=acme, customer_layer=2),
    }
    units["payroll"] = OrgUnitFactory(name="Payroll", code="payroll", parent=units["finance"], customer_layer=3)

    users = {name: UserFactory(username=name) for name in ("hr-a", "hr-b", "leader", "rev1", "rev2", "ann", "lee")}
    users["hr-a"].groups.add(groups[Role.HR])
    users["hr-b"].groups.add(groups[Role.HR])
    users["leader"].groups.add(groups[Role.LEADERSHIP])
    users["rev1"].groups.add(groups[Role.CX_REVIEWER])
    users["rev2"].groups.add(groups[Role.CX_REVIEWER])
    users["rev1"].first_name, users["rev1"].last_name = "Rita", "One"
    users["rev1"].save()

    ceo = EmployeeFactory(full_name="Cleo Chief", org_unit=acme)
    mia = EmployeeFactory(full_name="Mia Manager", org_unit=units["front"], manager=ceo)
    fin = EmployeeFactory(full_name="Finn Head", org_unit=units["finance"], manager=ceo)
    people = {
        "ceo": ceo,
        "mia": mia,
        "fin": fin,
        "ann": EmployeeFactory(full_name="Ann Archer", org_unit=units["front"], manager=mia, user=users["ann"]),
        "bob": EmployeeFactory(full_name="Bob Baker", org_unit=units["front"], manager=mia),
        "fay": EmployeeFactory(full_name="Fay Fisher", org_unit=units["front"], manager=mia),
        "eve": EmployeeFactory(full_name="Eve Evans", org_unit=units["finance"], manager=fin),
        "gus": EmployeeFactory(full_name="Gus Grant", org_unit=units["finance"], manager=fin),
        "cat": EmployeeFactory(full_name="Cat Cooper", org_unit=units["payroll"], manager=fin),
        "dan": EmployeeFactory(full_name="Dan Dunn", org_unit=units["payroll"], manager=fin),
        "lee": EmployeeFactory(full_name="Lee Lawson", org_unit=units["legal"], manager=ceo, user=users["lee"]),
    }

    promotion = RitualType.objects.get(code="promotion")
    story = _publish(promotion, None, today, "One customer story",
                     {"count": 1, "categories": ["customer_story"], "within_days": 365})  # fmt: skip
    kpi = _publish(promotion, units["front"], today, "One operational KPI",
                   {"count": 1, "categories": ["operational_kpi"], "within_days": 365})  # fmt: skip

    rev1, rev2 = users["rev1"], users["rev2"]
    _verified(people["ann"], 10, rev1, now, title="Ann story")
    _verified(people["ann"], 30, rev1, now, factory=OperationalMetricEvidenceFactory, title="Ann KPI",
              customer_type=CustomerType.INTERNAL, internal_customer_unit=units["finance"])  # fmt: skip
    _verified(people["cat"], 2, rev1, now, title="Cat story")
    _verified(people["fay"], 200, rev2, now, title="Fay story")
    _verified(people["bob"], 50, rev2, now, title="Bob story", status=EvidenceStatus.REJECTED)
    EvidenceFactory(
        owner=people["fay"],
        category=category("outcome_score"),
        title="Fay survey score",
        customer_quote=SOLICITING_QUOTE,
        metric_kind=MetricKind.OUTCOME,
        status=EvidenceStatus.SUBMITTED,
        submitted_at=now - dt.timedelta(days=8),
        gaming_flags=[
            {"code": "score_solicitation", "reason": 'Asks the customer for a score ("give us a 10").'},
            {"code": "outcome_only", "reason": "Rests on an outcome score (NPS, CSAT) alone."},
        ],
    )
    EvidenceFactory(owner=people["gus"], title="Gus story", status=EvidenceStatus.SUBMITTED,
                    submitted_at=now - dt.timedelta(days=1))  # fmt: skip
    EvidenceFactory(owner=people["gus"], title="Gus draft", status=EvidenceStatus.DRAFT)

    h1 = CycleFactory(ritual_type=promotion, name="Promotions H1", opens_on=today - dt.timedelta(days=90))
    h2 = CycleFactory(ritual_type=promotion, name="Promotions H2", opens_on=today - dt.timedelta(days=10))
    opened = case_open_many(
        cycle=h1, subjects=[{"subject_employee": people[name]} for name in ("ann", "bob", "cat", "dan", "eve")]
    )
    cases = dict(zip("ABCDE", opened, strict=True))
    opened = case_open_many(cycle=h2, subjects=[{"subject_employee": people[name]} for name in ("fay", "cat", "gus")])
    cases.update(zip("FGH", opened, strict=True))

    hr_a, hr_b = users["hr-a"], users["hr-b"]
    case_step_decide(case=cases["A"], by=hr_a, decision="approve", comment="Criteria met.")
    exception = case_exception_request(
        case=cases["B"], by=hr_a, justification=JUSTIFICATION, waived_requirement_ids=[story.pk, kpi.pk]
    )
    case_exception_decide(exception=exception, by=hr_b, grant=True, note="Checked with his director.")
    case_step_decide(case=cases["B"], by=hr_b, decision="approve", comment="With the exception.")
    case_step_decide(case=cases["C"], by=hr_a, decision="approve", comment="Criteria met.")
    case_step_decide(case=cases["D"], by=hr_a, decision="reject", comment="No customer evidence yet.")
    case_withdraw(case=cases["E"], by=hr_a, note="Moved to another company.")
    case_refresh_compliance(case_ids=[cases["F"].pk, cases["G"].pk])
    # Cases store their compliance from the moment they open; H stands for one that never has (opened before
    # that, or its evaluation was cleared), which the reports show as "not evaluated yet".
    Case.objects.filter(pk=cases["H"].pk).audited_update(compliant=None, evaluated_at=None)
    cases = {key: Case.objects.get(pk=case.pk) for key, case in cases.items()}
    return Company(today=today, units=units, people=people, users=users, h1=h1, h2=h2, cases=cases, story=story,
                   kpi=kpi)  # fmt: skip


@pytest.fixture
def company(db) -> Company:
    return build_company()


def grow(company: Company, n: int) -> None:
    """Add `n` Payroll people with a verified story, each with an open case in H2 (half of them then approved):
    more rows everywhere, so query counts can be compared at two sizes."""
    now = timezone.now()
    people = [EmployeeFactory(org_unit=company.units["payroll"], manager=company.people["fin"]) for _ in range(n)]
    for person in people:
        _verified(person, 5, company.users["rev1"], now, title=f"Story of {person.full_name}")
    cases = case_open_many(cycle=company.h2, subjects=[{"subject_employee": person} for person in people])
    for case in cases[: n // 2]:
        case_step_decide(case=case, by=company.users["hr-a"], decision="approve", comment="Criteria met.")


@pytest.fixture
def client_for(client):
    """A test client signed in as the given user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
