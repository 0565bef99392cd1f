"""The stored evaluations equal a live evaluation of every open case after every kind of change (hypothesis over
sequences of actions on a small company): evidence submitted and verified or rejected, a verification revoked, a
verified item corrected, attestations given and withdrawn, exceptions granted, evidence linked to a candidate's
case, cases opened and decided, and days passing followed by the nightly sweep."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.cases.evaluations import evaluations_sweep
from apps.cases.models import Attestation, Case, CaseRequirementResult
from apps.cases.selectors import case_checklists
from apps.cases.services import (
    case_attest,
    case_attestation_withdraw,
    case_exception_decide,
    case_exception_request,
    case_link_evidence,
    case_open,
    case_step_decide,
    case_withdraw,
)
from apps.common.errors import InvalidTransition
from apps.common.roles import Role, ensure_role_groups
from apps.evidence.constants import CustomerType, EvidenceStatus
from apps.evidence.models import Evidence
from apps.evidence.services import (
    evidence_correct,
    evidence_reject,
    evidence_revoke,
    evidence_submit,
    evidence_verify,
)
from apps.policies.engine.requirement_kinds import MODIFIER_KINDS
from apps.policies.models import RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from tests.factories.cases import CycleFactory
from tests.factories.evidence import EvidenceFactory, category
from tests.factories.insights import InsightRouteFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db

REFUSED = (ValidationError, PermissionDenied, InvalidTransition)
CATEGORIES = ("customer_story", "customer_voice", "handoff_improvement", "outcome_score")
JUSTIFICATION = "The subject carried the whole migration alone this year; the stories were never written down."


def _publish(ritual, scope, requirements):
    policy = policy_create(ritual_type=ritual, scope=scope)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate() - dt.timedelta(days=400))
    for kind, params in requirements:
        requirement_add(version=version, kind=kind, params=params)
    policy_version_publish(version=version, today=version.effective_from)


@pytest.fixture
def company(db):
    """Three employees under one manager, HR and a hiring manager; promotion and hiring policies with short windows,
    so a few days passing changes what counts."""
    groups = ensure_role_groups()
    hotel = OrgUnitFactory(name="Hotel", code="hotel")
    desk = OrgUnitFactory(name="Desk", code="desk", parent=hotel)
    back = OrgUnitFactory(name="Back office", code="back", parent=hotel)
    manager = EmployeeFactory(org_unit=desk, user=UserFactory(username="mia"))
    people = [
        EmployeeFactory(org_unit=unit, manager=manager, user=UserFactory(username=name))
        for name, unit in (("ann", desk), ("bob", desk), ("cat", back))
    ]
    hr_a, hr_b = UserFactory(username="hr-a"), UserFactory(username="hr-b")
    for user in (hr_a, hr_b):
        user.groups.add(groups[Role.HR])
    promotion = RitualType.objects.get(code="promotion")
    _publish(promotion, None, [
        ("min_evidence", {"count": 1, "categories": ["customer_story"], "within_days": 20}),
        ("distinct_categories", {"count": 2, "within_days": 60}),
        ("customer_voice", {"count": 1}),
        ("outcome_cap", {"max": 1}),
        ("attestation", {"role": "manager"}),
    ])  # fmt: skip
    _publish(promotion, desk, [
        ("internal_customer", {"count": 1, "within_days": 30}),
        ("responds_to_insights", {"count": 1, "within_days": 30}),
    ])  # fmt: skip
    hiring = RitualType.objects.get(code="hiring")
    _publish(hiring, None, [("min_evidence", {"count": 2, "within_days": 25})])
    return {
        "people": people,
        "manager": manager,
        "units": [hotel, desk, back],
        "hr_a": hr_a,
        "hr_b": hr_b,
        "promotion": CycleFactory(ritual_type=promotion, name="Promotions"),
        "hiring": CycleFactory(ritual_type=hiring, name="Hiring"),
        # One customer insight in each unit's inbox, for evidence that responds to it.
        "routes": [InsightRouteFactory(unit=unit) for unit in (hotel, desk, back)],
    }


index = st.integers(min_value=0, max_value=20)
actions = st.one_of(
    st.tuples(
        st.just("evidence"),
        index,
        st.sampled_from(CATEGORIES),
        st.integers(0, 70),
        st.booleans(),
        st.sampled_from(("verify", "reject", "wait")),
    ),  # fmt: skip
    st.tuples(st.just("review"), index, st.booleans()),
    st.tuples(st.just("revoke"), index),
    st.tuples(st.just("correct"), index),
    st.tuples(st.just("attest"), index),
    st.tuples(st.just("withdraw_attestation"), index),
    st.tuples(st.just("exception"), index),
    st.tuples(st.just("open"), index),
    st.tuples(st.just("open_candidate"), index),
    st.tuples(st.just("link"), index, index),
    st.tuples(st.just("decide"), index, st.sampled_from(("approve", "reject", "withdraw"))),
    st.tuples(st.just("days"), st.integers(1, 40)),
)


def pick(items, i):
    return items[i % len(items)] if items else None


class World:
    """Runs the actions against the company through the services, as people would."""

    def __init__(self, company):
        self.c = company
        self.candidates = 0

    def open_cases(self, cycle):
        return list(Case.objects.open().filter(cycle=cycle).order_by("pk"))

    def run(self, action):
        kind, *args = action
        getattr(self, kind)(*args)

    def evidence(self, i, code, age, internal, outcome):
        c = self.c
        owner = pick(c["people"], i)
        extra = {"customer_type": CustomerType.INTERNAL, "internal_customer_unit": pick(c["units"], i + 1)}
        item = EvidenceFactory(
            owner=owner,
            category=category(code),
            impact_date=timezone.localdate() - dt.timedelta(days=age),
            status=EvidenceStatus.SUBMITTED,
            submitted_at=timezone.now(),
            metric_kind="outcome" if code == "outcome_score" else "",
            baseline=40 if code == "outcome_score" else None,
            result=60 if code == "outcome_score" else None,
            # Every third item answers an insight, of the owner's unit or another's, so responses come and go.
            responds_to=pick(c["routes"], i) if age % 3 == 0 else None,
            **(extra if internal else {}),
        )
        if outcome == "verify":
            evidence_verify(evidence=item, by=c["hr_a"], acknowledge_flags=True)
        elif outcome == "reject":
            evidence_reject(evidence=item, by=c["hr_a"], comment="Not a customer of ours.")

    def review(self, i, verify):
        item = pick(list(Evidence.objects.filter(status=EvidenceStatus.SUBMITTED).order_by("pk")), i)
        if item is None:
            return
        if verify:
            evidence_verify(evidence=item, by=self.c["hr_a"], acknowledge_flags=True)
        else:
            evidence_reject(evidence=item, by=self.c["hr_a"], comment="Not a customer of ours.")

    def _verified(self, i):
        return pick(list(Evidence.objects.filter(status=EvidenceStatus.VERIFIED, is_current=True).order_by("pk")), i)

    def revoke(self, i):
        item = self._verified(i)
        if item is not None:
            evidence_revoke(evidence=item, by=self.c["hr_b"], comment="Found to be invented later.")

    def correct(self, i):
        item = self._verified(i)
        if item is None or Evidence.objects.filter(previous=item).exists():
            return
        owner = item.owner.user
        correction = evidence_correct(evidence=item, by=owner)
        evidence_submit(evidence=correction, by=owner)
        evidence_verify(evidence=correction, by=self.c["hr_a"], acknowledge_flags=True)

    def attest(self, i):
        case = pick(self.open_cases(self.c["promotion"]), i)
        if case is not None:
            case_attest(case=case, by=self.c["manager"].user, role="manager", note="Seen it first hand.")

    def withdraw_attestation(self, i):
        attestation = pick(list(Attestation.objects.filter(case__status="open").order_by("pk")), i)
        if attestation is not None:
            case_attestation_withdraw(attestation=attestation, by=self.c["hr_a"], note="Attested on the wrong case.")

    def exception(self, i):
        case = pick(list(Case.objects.open().order_by("pk")), i)
        if case is None:
            return
        unmet = list(
            CaseRequirementResult.objects.filter(case=case, met=False).values_list("requirement_id", flat=True)
        )
        exception = case_exception_request(
            case=case, by=self.c["hr_a"], justification=JUSTIFICATION, waived_requirement_ids=unmet
        )
        case_exception_decide(exception=exception, by=self.c["hr_b"], grant=True, note="Checked with the director.")

    def open(self, i):
        case_open(cycle=self.c["promotion"], subject_employee=pick(self.c["people"], i), by=self.c["hr_a"])

    def open_candidate(self, i):
        self.candidates += 1
        case_open(
            cycle=self.c["hiring"],
            candidate_name=f"Candidate {self.candidates}",
            candidate_email=f"candidate{self.candidates}@example.com",
            nominated_by=self.c["manager"],
            by=self.c["hr_a"],
        )

    def link(self, i, j):
        case = pick(self.open_cases(self.c["hiring"]), i)
        item = self._verified(j)
        if case is not None and item is not None:
            case_link_evidence(case=case, evidence=item, by=self.c["hr_a"])

    def decide(self, i, how):
        case = pick(list(Case.objects.open().order_by("pk")), i)
        if case is None:
            return
        if how == "withdraw":
            case_withdraw(case=case, by=self.c["hr_a"], note="Nominated by mistake.")
        else:
            case_step_decide(case=case, by=self.c["hr_b"], decision=how, comment="Decided on the evidence.")

    def days(self, n):
        self.traveller.shift(dt.timedelta(days=n))
        evaluations_sweep()


def assert_stored_equals_live():
    """Every open case's stored rows and compliance are its live evaluation now; decided cases have no rows."""
    cases = list(Case.objects.open().select_related("cycle", "subject_employee"))
    live = case_checklists(cases, today=timezone.localdate()) if cases else {}
    expected = {
        (pk, r.requirement_id): (r.met, r.have, r.need, list(r.counted_ids), evaluation.as_of)
        for pk, evaluation in live.items()
        for r in evaluation.results
        if r.kind not in MODIFIER_KINDS
    }
    rows = CaseRequirementResult.objects.values_list(
        "case_id", "requirement_id", "met", "have", "need", "counted_ids", "as_of"
    )
    assert {(row[0], row[1]): row[2:] for row in rows} == expected
    assert {case.pk: case.compliant for case in cases} == {pk: e.compliant for pk, e in live.items()}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(actions, min_size=1, max_size=14))
def test_stored_evaluations_equal_live_ones_after_every_change(company, steps, django_capture_on_commit_callbacks):
    world = World(company)
    with transaction.atomic(), time_machine.travel(timezone.now(), tick=False) as traveller:
        world.traveller = traveller
        for age, person in enumerate(company["people"]):
            EvidenceFactory(owner=person, status=EvidenceStatus.VERIFIED, impact_date=timezone.localdate()
                            - dt.timedelta(days=5 * age))  # fmt: skip
        for person in company["people"][:2]:
            case_open(cycle=company["promotion"], subject_employee=person, by=company["hr_a"])
        world.open_candidate(0)
        assert_stored_equals_live()
        for step in steps:
            with django_capture_on_commit_callbacks(execute=True):  # the evidence-review hook runs after commit
                try:
                    with transaction.atomic():
                        world.run(step)
                except REFUSED:
                    pass  # refused by the service (a gate, four eyes, a closed cycle): nothing changed
            assert_stored_equals_live()
        transaction.set_rollback(True)  # the next example starts from the same company
