"""Stored evaluations: each open case's current result per requirement (`CaseRequirementResult`) and its summary
(`Case.compliant`), written by the services that change an input of the evaluation and by a nightly sweep.

- Opening stores the new cases' evaluations with them (`evaluate_new_cases`, then `evaluations_store`).
- `case_refresh_compliance` re-evaluates open cases and rewrites their rows, in one transaction with the cases
  locked: called on attestation (given or withdrawn), on a linked item, and after an evidence review (verified,
  rejected, revoked, a correction verified) by the hook in `receivers.py`.
- A decision deletes the case's rows (`evaluations_clear`): a decided case keeps its frozen evaluation instead.
- `evaluations_sweep` re-evaluates every open case in batches, each in its own transaction, for what no service
  announces: days passing (evidence ageing out of a "within D days" window), a person moving unit.

Exceptions and policy versions published later change nothing here: an exception waives requirements at the gate
without changing the evaluation, and a case's pinned versions never change after it opens.
Reports read the rows; the approval gate, the case page and the policy preview evaluate live.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from apps.policies.engine import Evaluation, SubjectFacts
from apps.policies.engine.requirement_kinds import MODIFIER_KINDS
from apps.policies.selectors import EffectivePolicy

from .hooks import CaseEvent, case_event
from .models import ApprovalStep, Case, CaseRequirementResult, StepRecord
from .routing import DEFAULT_ROUTE
from .selectors import case_checklists

STORED_FIELDS = ["met", "have", "need", "counted_ids", "as_of", "evaluated_at"]
# Open cases per transaction of the sweep: each batch loads its cases' evidence facts at once.
SWEEP_BATCH_SIZE = 500


def result_rows(case: Case, evaluation: Evaluation, now: dt.datetime) -> list[CaseRequirementResult]:
    """The rows that store one case's evaluation (modifiers aside: always met, they block nothing)."""
    return [
        CaseRequirementResult(
            case_id=case.pk,
            cycle_id=case.cycle_id,
            requirement_id=r.requirement_id,
            met=r.met,
            have=r.have,
            need=r.need,
            counted_ids=list(r.counted_ids),
            as_of=evaluation.as_of,
            evaluated_at=now,
        )
        for r in evaluation.results
        if r.kind not in MODIFIER_KINDS
    ]


def evaluations_store(*, evaluated: Iterable[tuple[Case, Evaluation]], now: dt.datetime) -> None:
    """Write (insert or overwrite) the rows of evaluated cases: one statement per 1,000 rows.

    A case's requirements never change after it opens (its versions are pinned), so overwriting by (case,
    requirement) leaves no stale row behind.
    """
    rows = [row for case, evaluation in evaluated for row in result_rows(case, evaluation, now)]
    if rows:
        CaseRequirementResult.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["case", "requirement"],
            update_fields=STORED_FIELDS,
        )


def evaluations_clear(*, case_ids: Sequence[int]) -> None:
    """Remove the stored rows of decided cases (their frozen evaluation speaks for them from now on)."""
    CaseRequirementResult.objects.filter(case_id__in=case_ids).delete()


def evaluate_new_cases(
    cases: Sequence[Case], policies: dict[int | None, EffectivePolicy], as_of: dt.date, now: dt.datetime
) -> list[Evaluation]:
    """Evaluate cases about to open and set their compliance (one evidence query; a new case has no links or
    attestations yet); store the returned evaluations with `evaluations_store` once the cases have their ids."""
    from apps.evidence.selectors import evidence_facts_by_owner

    owners = [case.subject_employee_id for case in cases if case.subject_employee_id]
    facts = evidence_facts_by_owner(owner_ids=owners, as_of=as_of) if owners else {}
    compiled = {}
    evaluations = []
    for case in cases:
        unit_id = case.policy_unit_id
        if unit_id not in compiled:
            compiled[unit_id] = policies[unit_id].compile()
        subject = SubjectFacts(
            subject_unit_id=case.subject_employee.org_unit_id if case.subject_employee is not None else unit_id,
            evidence=facts.get(case.subject_employee_id, []) if case.subject_employee_id else [],
        )
        evaluation = compiled[unit_id].evaluate(subject, as_of)
        case.compliant = evaluation.compliant
        case.evaluated_at = now
        evaluations.append(evaluation)
    return evaluations


@transaction.atomic
def case_refresh_compliance(*, case_ids: Sequence[int], today: dt.date | None = None) -> int:
    """Re-evaluate open cases and store each requirement's result and their compliance; return how many cases
    changed compliance. The cases are locked first, so two refreshes of one case write in turn, each reading what
    the other committed, and a case being decided is left to its decision."""
    today = today or timezone.localdate()
    cases = list(
        Case.objects.open()
        .filter(pk__in=sorted(set(case_ids)))
        .select_for_update(of=("self",))
        .select_related("cycle", "subject_employee")
        .order_by("pk")
    )
    if not cases:
        return 0
    evaluations = case_checklists(cases, today=today)
    now = timezone.now()
    evaluations_store(evaluated=[(case, evaluations[case.pk]) for case in cases], now=now)
    # The case row (audited) changes only with its compliance: a re-evaluation that changes nothing writes no event.
    turned: dict[bool, list[Case]] = {True: [], False: []}
    for case in cases:
        compliant = evaluations[case.pk].compliant
        if case.compliant is not compliant:
            turned[compliant].append(case)
            case.compliant = compliant
            case.evaluated_at = now
    for compliant, changed in turned.items():
        if changed:
            Case.objects.filter(pk__in=[case.pk for case in changed]).audited_update(
                compliant=compliant, evaluated_at=now, updated_at=now
            )
    if turned[True]:
        _announce_first_step(turned[True])
    return len(turned[True]) + len(turned[False])


def _announce_first_step(cases: list[Case]) -> None:
    """Tell the first step's actors that a case now meets its policy, unless someone already acted on it."""
    ids = [case.pk for case in cases]
    started = set(StepRecord.objects.filter(case_id__in=ids).values_list("case_id", flat=True))
    ritual_ids = {case.cycle.ritual_type_id for case in cases}
    first_order = dict(
        ApprovalStep.objects.filter(route__ritual_type_id__in=ritual_ids)
        .values("route__ritual_type_id")
        .annotate(first=Min("order"))
        .values_list("route__ritual_type_id", "first")
    )
    for case in cases:
        if case.pk not in started:
            order = first_order.get(case.cycle.ritual_type_id, DEFAULT_ROUTE[0].order)
            case_event(case_id=case.pk, event=CaseEvent.STEP_WAITING, order=order)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What a sweep did: open cases re-evaluated, and how many of them changed compliance."""

    examined: int
    changed: int


def evaluations_sweep(
    *, cycle_id: int | None = None, today: dt.date | None = None, batch_size: int = SWEEP_BATCH_SIZE
) -> SweepResult:
    """Re-evaluate every open case (of one cycle, or all) as of today, `batch_size` cases at a time, each batch in
    a transaction of its own: memory holds one batch, and each batch takes the same dozen queries."""
    today = today or timezone.localdate()
    scope = Case.objects.open()
    if cycle_id is not None:
        scope = scope.filter(cycle_id=cycle_id)
    examined = changed = 0
    after = 0
    while True:
        ids = list(scope.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        changed += case_refresh_compliance(case_ids=ids, today=today)
        examined += len(ids)
        after = ids[-1]
    return SweepResult(examined=examined, changed=changed)
