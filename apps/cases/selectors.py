"""Reads for cases: live checklists for many cases in a fixed number of queries, routes and who may act."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from apps.evidence.models import Evidence
from apps.evidence.selectors import FACT_FIELDS, evidence_facts_by_owner, fact_from_row
from apps.org.models import Employee
from apps.org.selectors import org_tree_get
from apps.policies.engine import CompiledPolicy, Evaluation, EvidenceFact, RequirementSpec, SubjectFacts, compile_policy
from apps.policies.engine.requirement_kinds import RequirementKind
from apps.policies.models import Requirement
from apps.policies.selectors import category_names_get, requirement_specs

from .constants import CaseStatus, ExceptionStatus, StepRole
from .models import (
    ApprovalStep,
    Attestation,
    Case,
    CaseEvidence,
    CaseQuerySet,
    Cycle,
    PolicyException,
    StepRecord,
)


@dataclass(slots=True)
class CaseInputs:
    """Everything the engine needs for a set of cases, loaded in bulk."""

    specs_by_case: dict[int, tuple[RequirementSpec, ...]]
    facts_by_case: dict[int, list[EvidenceFact]]
    attestations_by_case: dict[int, frozenset[str]]
    category_names: dict[str, str]


def pinned_version_ids(case_ids: Sequence[int] | QuerySet[Case]) -> dict[int, list[int]]:
    """Pinned policy version ids per case (one query); `case_ids` may be ids or a queryset of cases."""
    through = Case.pinned_versions.through
    pinned: dict[int, list[int]] = defaultdict(list)
    rows = through.objects.filter(case_id__in=_ids(case_ids)).values_list("case_id", "policyversion_id")
    for case_id, version_id in rows:
        pinned[case_id].append(version_id)
    return pinned


def _ids(cases: Sequence[int] | QuerySet[Case]) -> Sequence[int] | QuerySet[Any]:
    """A list of ids, or the queryset's ids as a subquery (no parameter limit, one round trip)."""
    if isinstance(cases, QuerySet):
        return cases.order_by().values("pk")
    return cases


def specs_for_versions(
    version_ids: Iterable[int], names: dict[str, str]
) -> tuple[dict[int, list[RequirementSpec]], set[int]]:
    """Engine specs per version, and which of the versions are baselines (one query)."""
    requirements = (
        Requirement.objects.filter(version_id__in=set(version_ids))
        .select_related("version__policy")
        .order_by("order", "pk")
    )
    by_version: dict[int, list[Requirement]] = defaultdict(list)
    baseline: set[int] = set()
    for requirement in requirements:
        by_version[requirement.version_id].append(requirement)
        if requirement.version.policy.scope_id is None:
            baseline.add(requirement.version_id)
    return {version_id: requirement_specs(items, names) for version_id, items in by_version.items()}, baseline


def _ordered_specs(
    version_ids: list[int], specs: dict[int, list[RequirementSpec]], baseline: set[int]
) -> tuple[RequirementSpec, ...]:
    ordered = sorted(version_ids, key=lambda v: (v not in baseline, v))
    return tuple(spec for version_id in ordered for spec in specs.get(version_id, []))


@dataclass(frozen=True, slots=True)
class CaseRef:
    """The few facts of a case the checklist needs, so a whole cycle loads without building model instances."""

    pk: int
    subject_employee_id: int | None
    subject_unit_id: int | None
    policy_unit_id: int
    subject_org_unit_id: int | None
    evidence_deadline: dt.date

    @property
    def own_unit_id(self) -> int | None:
        """The unit whose own work is not 'internal customer' work for this subject."""
        return self.subject_org_unit_id or self.subject_unit_id or self.policy_unit_id


CASE_REF_FIELDS = (
    "pk", "subject_employee_id", "subject_unit_id", "policy_unit_id", "subject_employee__org_unit_id",
    "cycle__evidence_deadline",
)  # fmt: skip


def case_ref(case: Case) -> CaseRef:
    """The CaseRef of a loaded case (needs `cycle` and `subject_employee` loaded to avoid queries)."""
    return CaseRef(
        pk=case.pk,
        subject_employee_id=case.subject_employee_id,
        subject_unit_id=case.subject_unit_id,
        policy_unit_id=case.policy_unit_id,
        subject_org_unit_id=case.subject_employee.org_unit_id if case.subject_employee is not None else None,
        evidence_deadline=case.cycle.evidence_deadline,
    )


def case_inputs_get(cases: Sequence[CaseRef], *, scope: QuerySet[Case] | None = None) -> CaseInputs:
    """Load specs, facts and attestations for many cases: five queries whatever their number.

    With `scope` (a queryset matching exactly `cases`, e.g. a whole cycle), the queries use it as a subquery
    instead of lists of ids, so even 100k cases take five round trips and no database parameter limit applies.
    """
    case_ids: Sequence[int] | QuerySet[Case] = scope if scope is not None else [case.pk for case in cases]
    names = category_names_get()
    pinned = pinned_version_ids(case_ids)
    all_versions = {v for versions in pinned.values() for v in versions}
    specs, baseline_versions = specs_for_versions(all_versions, names)
    specs_by_case = {case.pk: _ordered_specs(pinned.get(case.pk, []), specs, baseline_versions) for case in cases}

    owner_ids = (
        scope.order_by().filter(subject_employee__isnull=False).values("subject_employee_id")
        if scope is not None
        else {case.subject_employee_id for case in cases if case.subject_employee_id}
    )
    own = evidence_facts_by_owner(owner_ids=owner_ids, verified_only=False)
    linked: dict[int, list[EvidenceFact]] = defaultdict(list)
    fields = tuple(f"evidence__{name}" for name in FACT_FIELDS)
    rows = (
        CaseEvidence.objects.filter(case_id__in=_ids(case_ids), evidence__is_current=True)
        .order_by()
        .values_list("case_id", *fields)
    )
    for row in rows:
        linked[row[0]].append(fact_from_row(row[1:]))
    facts_by_case: dict[int, list[EvidenceFact]] = {}
    for case in cases:
        facts = list(own.get(case.subject_employee_id, [])) if case.subject_employee_id else []
        seen = {fact.id for fact in facts}
        facts.extend(fact for fact in linked.get(case.pk, []) if fact.id not in seen)
        facts_by_case[case.pk] = facts

    attestations: dict[int, set[str]] = defaultdict(set)
    for case_id, role in Attestation.objects.filter(case_id__in=_ids(case_ids)).values_list("case_id", "role"):
        attestations[case_id].add(role)
    return CaseInputs(
        specs_by_case=specs_by_case,
        facts_by_case=facts_by_case,
        attestations_by_case={case_id: frozenset(roles) for case_id, roles in attestations.items()},
        category_names=names,
    )


def evaluate_refs(
    refs: Sequence[CaseRef], *, today: dt.date, scope: QuerySet[Case] | None = None
) -> dict[int, Evaluation]:
    """Evaluate cases live: five queries whatever their number; each distinct policy is compiled once."""
    inputs = case_inputs_get(refs, scope=scope)
    compiled: dict[tuple[int, ...], CompiledPolicy] = {}
    result: dict[int, Evaluation] = {}
    no_attestations: frozenset[str] = frozenset()
    for ref in refs:
        specs = inputs.specs_by_case.get(ref.pk, ())
        key = tuple(spec.id for spec in specs)
        policy = compiled.get(key)
        if policy is None:
            policy = compiled[key] = compile_policy(specs, category_names=inputs.category_names)
        facts = SubjectFacts(
            subject_unit_id=ref.own_unit_id,
            evidence=inputs.facts_by_case.get(ref.pk, []),
            attestations=inputs.attestations_by_case.get(ref.pk, no_attestations),
        )
        result[ref.pk] = policy.evaluate(facts, min(today, ref.evidence_deadline))
    return result


def case_checklists(cases: Sequence[Case], *, today: dt.date) -> dict[int, Evaluation]:
    """Evaluate loaded cases live (five queries, none per case; load `cycle` and `subject_employee` with them)."""
    return evaluate_refs([case_ref(case) for case in cases], today=today)


def cycle_checklists(*, cycle_id: int, today: dt.date, open_only: bool = True) -> dict[int, Evaluation]:
    """Evaluate every (open) case of a cycle: six queries whatever the number of cases."""
    scope = Case.objects.filter(cycle_id=cycle_id)
    if open_only:
        scope = scope.open()
    refs = [CaseRef(*row) for row in scope.order_by("pk").values_list(*CASE_REF_FIELDS)]
    return evaluate_refs(refs, today=today, scope=scope)


def live_evaluations(cases: Sequence[Case], *, today: dt.date) -> dict[int, Evaluation]:
    """Live evaluations of the open cases among `cases` (decided ones keep their frozen checklist)."""
    open_cases = [case for case in cases if case.is_open]
    return case_checklists(open_cases, today=today) if open_cases else {}


def case_checklist(case: Case, *, today: dt.date) -> Evaluation:
    """The live checklist of one case."""
    return case_checklists([case], today=today)[case.pk]


def evaluation_as_json(evaluation: Evaluation, **extra: Any) -> dict[str, Any]:
    """A JSON snapshot of an evaluation, frozen on the case at decision."""
    return {
        "as_of": evaluation.as_of.isoformat(),
        "compliant": evaluation.compliant,
        "score": round(evaluation.score, 4),
        "results": [
            {
                "requirement_id": r.requirement_id,
                "kind": str(r.kind),
                "label": r.label,
                "met": r.met,
                "have": r.have,
                "need": r.need,
                "counted_ids": list(r.counted_ids),
                "reason": r.reason,
                "weight": r.weight,
            }
            for r in evaluation.results
        ],
        **extra,
    }


def checklist_rows(case: Case, evaluation: Evaluation | None) -> list[dict[str, Any]]:
    """Checklist rows for pages and the API: the frozen evaluation once decided, else the live one."""
    if not case.is_open and case.frozen_evaluation:
        return list(case.frozen_evaluation["results"])
    if evaluation is None:
        return []
    rows: list[dict[str, Any]] = evaluation_as_json(evaluation)["results"]
    return rows


def checklist_with_titles(case: Case, *, today: dt.date) -> list[dict[str, Any]]:
    """A case page's checklist rows, each with `counted` = (id, title) of the evidence that counted."""
    rows = checklist_rows(case, live_evaluations([case], today=today).get(case.pk))
    titles = evidence_titles(i for row in rows for i in row["counted_ids"])
    return [{**row, "counted": [(i, titles.get(i, f"#{i}")) for i in row["counted_ids"]]} for row in rows]


def evidence_titles(ids: Iterable[int]) -> dict[int, str]:
    """Titles of counted evidence, for checklist links (one query)."""
    return dict(Evidence.objects.filter(pk__in=set(ids)).values_list("pk", "title"))


@dataclass(slots=True)
class OpeningPreview:
    """Who an opening by filter covers: the people it would open cases for, and those skipped (a live case)."""

    to_open: list[Employee]
    skipped: list[Employee]


def cycle_opening_preview(*, cycle: Cycle, unit_id: int | None = None, job_level: str = "") -> OpeningPreview:
    """Active employees in a unit (with its descendants) and/or at a job level, split by whether they have a live case
    in the cycle (three queries: the org tree, the live cases, the people)."""
    people = Employee.objects.active().select_related("org_unit")
    if unit_id is not None:
        people = people.filter(org_unit_id__in=org_tree_get().descendants(unit_id))
    if job_level:
        people = people.filter(job_level=job_level)
    live = set(
        Case.objects.filter(cycle=cycle, subject_employee__in=people.values("pk"))
        .exclude(status=CaseStatus.WITHDRAWN)
        .values_list("subject_employee_id", flat=True)
    )
    preview = OpeningPreview(to_open=[], skipped=[])
    for person in people.order_by("full_name", "pk"):
        (preview.skipped if person.pk in live else preview.to_open).append(person)
    return preview


def case_attestation_roles(case: Case) -> list[str]:
    """The roles whose attestation the case's pinned policy asks for, in policy order (one query)."""
    params = (
        Requirement.objects.filter(version__in=case.pinned_versions.all(), kind=RequirementKind.ATTESTATION)
        .order_by("order", "pk")
        .values_list("params", flat=True)
    )
    roles: list[str] = []
    for item in params:
        role = str((item or {}).get("role", ""))
        if role and role not in roles:
            roles.append(role)
    return roles


def cases_waiting_for_role(queryset: CaseQuerySet, role: str) -> CaseQuerySet:
    """Open cases whose next undecided approval step has this role (a ritual without a route waits for HR alone).

    One query with two subqueries, for the admin's "waiting for" filter and the HR home's count.
    """
    decided_orders = StepRecord.objects.filter(case_id=OuterRef(OuterRef("pk"))).values("order")
    route = ApprovalStep.objects.filter(route__ritual_type_id=OuterRef("cycle__ritual_type_id"))
    next_role = route.exclude(order__in=decided_orders).order_by("order").values("role")[:1]
    waiting = queryset.filter(status=CaseStatus.OPEN).annotate(waiting_role=Subquery(next_role))
    if role != StepRole.HR:
        return waiting.filter(waiting_role=role)
    unrouted = ~Exists(route) & ~Exists(StepRecord.objects.filter(case_id=OuterRef("pk")))
    return waiting.filter(Q(waiting_role=role) | unrouted)


def approvable_q() -> Q:
    """Cases the gate would let through today: meeting their policy, or with a granted exception (an EXISTS, so a
    case with two granted exceptions is listed once)."""
    granted = PolicyException.objects.filter(case_id=OuterRef("pk"), status=ExceptionStatus.GRANTED)
    return Q(compliant=True) | Q(Exists(granted))
