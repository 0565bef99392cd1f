"""The streaming live verdicts say met / not met exactly as each open case's live checklist does; the stored
evaluations the reports read equal the live checklists once swept."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.cases.evaluations import evaluations_sweep
from apps.cases.models import Case, CaseRequirementResult
from apps.cases.selectors import CASE_REF_FIELDS, CaseRef, cycle_checklists
from apps.cases.services import case_open_many
from apps.evidence.constants import CustomerType, EvidenceStatus, MetricKind, SourceType
from apps.org.selectors import org_tree_get
from apps.policies.engine.requirement_kinds import MODIFIER_KINDS
from apps.policies.models import RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from apps.reports.constants import MET, UNMET
from apps.reports.filters import ReportFilters
from apps.reports.selectors import case_detail
from apps.reports.selectors.live import LiveEvaluator
from apps.reports.selectors.streams import read_snapshot
from tests.factories.cases import AttestationFactory, CaseEvidenceFactory, CycleFactory
from tests.factories.evidence import EvidenceFactory, category
from tests.factories.org import EmployeeFactory, OrgUnitFactory

pytestmark = pytest.mark.django_db

CATEGORIES = ("customer_story", "customer_voice", "operational_kpi", "outcome_score", "handoff_improvement")
# Ages in days on and around the windows' edges (365 and 30 days), and a few dated after today.
AGES = (-3, 0, 1, 29, 30, 31, 200, 364, 365, 366, 700)
STATUSES = (EvidenceStatus.VERIFIED,) * 4 + (EvidenceStatus.SUBMITTED, EvidenceStatus.REJECTED)
VOICES = (("", "", ""), ("They called twice.", SourceType.SUPPORT_TICKET, "T-1"), ("  ", SourceType.INTERVIEW, "I-2"),
          ("They called twice.", SourceType.INTERVIEW, " "))  # fmt: skip


def _publish(ritual, scope, today, requirements):
    policy = policy_create(ritual_type=ritual, scope=scope)
    version = policy_version_create(policy=policy, effective_from=today - dt.timedelta(days=365))
    for kind, params in requirements:
        requirement_add(version=version, kind=kind, params=params)
    policy_version_publish(version=version, today=version.effective_from)


def _item(rng, owner, today, units, **extra):
    """A random current evidence item of `owner`: any category, status, age, customer, quote and metric."""
    code = rng.choice(CATEGORIES)
    quote, source_type, reference = rng.choice(VOICES)
    internal = rng.random() < 0.35
    fields = {
        "owner": owner,
        "category": category(code),
        "status": rng.choice(STATUSES),
        "impact_date": today - dt.timedelta(days=rng.choice(AGES)),
        "customer_type": CustomerType.INTERNAL if internal else CustomerType.EXTERNAL,
        "internal_customer_unit": rng.choice(units) if internal else None,
        "customer_quote": quote,
        "source_type": source_type,
        "source_reference": reference,
    }
    # A survey score is an outcome category or an outcome metric in any category.
    if code == "operational_kpi" or rng.random() < 0.3:
        baseline = Decimal(rng.randint(0, 1_000_000)) / 10_000
        fields.update(
            metric_kind=MetricKind.OPERATIONAL if code == "operational_kpi" else MetricKind.OUTCOME,
            baseline=baseline,
            result=baseline + Decimal(rng.randint(-200_000, 200_000)) / 10_000,
            direction=rng.choice(("increase", "decrease")),
        )
    return EvidenceFactory(**{**fields, **extra})


@pytest.fixture
def open_cases(db):
    """Forty open promotion cases over two cycles (one past its evidence deadline) under a policy of every kind,
    with random evidence, evidence linked to the cases, and attestations."""
    rng = random.Random(20261125)
    today = timezone.localdate()
    root = OrgUnitFactory(name="Hotel", code="hotel")
    desk = OrgUnitFactory(name="Desk", code="desk", parent=root)
    back = OrgUnitFactory(name="Back office", code="back", parent=root)
    units = [root, desk, back]
    promotion = RitualType.objects.get(code="promotion")
    _publish(promotion, None, today, [
        ("min_evidence", {"count": 2, "categories": ["customer_story", "outcome_score"], "within_days": 365}),
        ("metric_improvement", {"count": 1, "min_improvement_pct": 10, "within_days": 365}),
        ("distinct_categories", {"count": 3, "within_days": 365}),
        ("customer_voice", {"count": 1, "within_days": 30}),
        ("internal_customer", {"count": 1}),
        ("outcome_cap", {"max": 1}),
        ("attestation", {"role": "manager"}),
    ])  # fmt: skip
    _publish(promotion, desk, today, [
        ("min_evidence", {"count": 1, "customer_type": "internal", "within_days": 30}),
        ("outcome_cap", {"max": 0}),
    ])  # fmt: skip
    people = [EmployeeFactory(org_unit=rng.choice([desk, back])) for _ in range(40)]
    for person in people:
        for _ in range(rng.randint(0, 9)):
            _item(rng, person, today, units)
    current = CycleFactory(ritual_type=promotion, name="Promotions now")
    closing = CycleFactory(ritual_type=promotion, name="Promotions closing")
    cases = case_open_many(cycle=current, subjects=[{"subject_employee": p} for p in people[:25]])
    cases += case_open_many(cycle=closing, subjects=[{"subject_employee": p} for p in people[25:]])
    # The closing cycle's evidence deadline is behind us: its cases are judged as of that day, not today.
    closing.evidence_deadline = today - dt.timedelta(days=20)
    closing.save(update_fields=["evidence_deadline"])
    for case in cases[::3]:
        CaseEvidenceFactory(case=case, evidence=_item(rng, rng.choice(people), today, units))
    for case in cases[::5]:
        own = case.subject_employee.evidence.first()
        if own is not None:  # linked although it is the subject's own: it must count once
            CaseEvidenceFactory(case=case, evidence=own)
    for case in cases[::2]:
        AttestationFactory(case=case, role=rng.choice(("manager", "hr")))
    return today, [current, closing]


def _full_checklists(today, cycles):
    checklists = {}
    for cycle in cycles:
        checklists.update(cycle_checklists(cycle_id=cycle.pk, today=today))
    return {
        pk: (evaluation.as_of, {r.requirement_id: r.met for r in evaluation.results if r.kind not in MODIFIER_KINDS})
        for pk, evaluation in checklists.items()
    }


def test_live_verdicts_are_the_live_checklists(open_cases):
    today, cycles = open_cases
    expected = _full_checklists(today, cycles)
    scope = Case.objects.filter(cycle__in=cycles).open()

    got = {}
    with read_snapshot() as snapshot:
        evaluator = LiveEvaluator(scope, today=today, snapshot=snapshot)
        for row in scope.order_by("pk").values_list(*CASE_REF_FIELDS):
            verdict = evaluator.verdict(CaseRef(*row))
            got[row[0]] = (verdict.as_of, dict(zip(verdict.requirement_ids, verdict.met, strict=True)))

    assert got == expected
    # The cases are varied enough to mean something: every requirement is met by some and missed by others.
    outcomes = {(rid, met) for _, checklist in expected.values() for rid, met in checklist.items()}
    assert {met for _, met in outcomes} == {True, False}
    assert all((rid, True) in outcomes and (rid, False) in outcomes for rid, _ in outcomes)
    assert {as_of for as_of, _ in expected.values()} == {today, today - dt.timedelta(days=20)}


def test_the_sweep_stores_every_open_case_as_its_live_checklist(open_cases):
    # The fixture links evidence, attests and moves a deadline without the services: only the sweep sees it all.
    today, cycles = open_cases
    result = evaluations_sweep()

    live = {}
    for cycle in cycles:
        live.update(cycle_checklists(cycle_id=cycle.pk, today=today))
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
    assert result.examined == 40
    compliant = dict(Case.objects.open().values_list("pk", "compliant"))
    assert compliant == {pk: evaluation.compliant for pk, evaluation in live.items()}


def test_case_detail_shows_each_open_case_as_its_stored_evaluation(open_cases):
    today, cycles = open_cases
    evaluations_sweep()
    expected = _full_checklists(today, cycles)
    detail = case_detail(filters=ReportFilters(), tree=org_tree_get(), today=today)
    headers = {column.requirement_id: column.header for column in detail.requirement_columns}

    rows = [dict(zip(detail.columns, row, strict=True)) for row in detail.rows()]

    assert len(rows) == len(expected) == 40
    for row in rows:
        as_of, checklist = expected[row["case id"]]
        assert row["evaluated"] == f"as of {as_of.isoformat()}"
        assert row["compliant"] == ("yes" if all(checklist.values()) else "no")
        assert (row["requirements met"], row["requirements total"]) == (sum(checklist.values()), len(checklist))
        cells = {rid: row[header] for rid, header in headers.items() if row[header]}
        assert cells == {rid: MET if met else UNMET for rid, met in checklist.items()}
