"""Policy preview: which open cases would change compliance if a draft version were in force.

The work goes in chunks of open cases by id (`preview_chunk`), so memory holds one chunk whatever the cycle's size.
The "before" side is read from the stored evaluations (`CaseRequirementResult`) where a case has them all, else
evaluated live; the "after" side evaluates only what the draft changes (its own requirements, with the case's
modifiers) unless an outcome cap enters or leaves, which changes every requirement's result.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from apps.org.selectors import org_tree_get
from apps.policies.engine import CompiledPolicy, RequirementSpec, SubjectFacts, compile_policy
from apps.policies.engine.requirement_kinds import MODIFIER_KINDS
from apps.policies.models import PolicyVersion
from apps.policies.selectors import category_names_get, requirement_sentence, requirement_specs

from ..constants import PREVIEW_CHUNK_SIZE
from ..models import Case, CaseRequirementResult
from ..selectors import CASE_REF_FIELDS, CaseRef, case_inputs_get


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """One open case whose compliance would flip under the draft."""

    case_id: int
    subject: str
    unit: str
    cycle: str
    now_compliant: bool
    would_be_compliant: bool
    newly_unmet: tuple[str, ...]
    newly_met: tuple[str, ...]
    unit_id: int = 0
    cycle_id: int = 0


@dataclass(frozen=True, slots=True)
class Preview:
    """The outcome of a preview: how many open cases were looked at, and which would flip."""

    version: PolicyVersion
    examined: int
    rows: tuple[PreviewRow, ...]
    # (label, plain-language sentence) of each requirement of the draft, in order.
    requirements: tuple[tuple[str, str], ...] = ()

    @property
    def would_fail(self) -> int:
        return sum(1 for row in self.rows if not row.would_be_compliant)

    @property
    def would_pass(self) -> int:
        return sum(1 for row in self.rows if row.would_be_compliant)


@dataclass(slots=True)
class PreviewPlan:
    """What every chunk of one preview shares: the draft's specs, the policy's requirement ids, compiled policies."""

    version: PolicyVersion
    names: dict[str, str]
    draft_specs: tuple[RequirementSpec, ...]
    sentences: tuple[tuple[str, str], ...]
    # Requirements of every version of the draft's policy: the draft replaces whichever of them a case pinned.
    policy_requirement_ids: frozenset[int]
    scope_unit_ids: frozenset[int] | None
    compiled: dict[tuple[int, ...], CompiledPolicy]

    @property
    def is_baseline(self) -> bool:
        return self.version.policy.scope_id is None

    def evaluator(self, specs: tuple[RequirementSpec, ...]) -> CompiledPolicy:
        key = tuple(spec.id for spec in specs)
        if key not in self.compiled:
            self.compiled[key] = compile_policy(specs, category_names=self.names)
        return self.compiled[key]


def preview_plan(*, version: PolicyVersion) -> PreviewPlan:
    """Load what a preview of `version` needs once, before its chunks (a fixed number of queries)."""
    policy = version.policy
    names = category_names_get()
    draft_requirements = list(version.requirements.order_by("order", "pk"))
    policy_requirement_ids = frozenset(
        policy.versions.exclude(requirements__pk__isnull=True).values_list("requirements__pk", flat=True)
    )
    scope = None if policy.scope_id is None else frozenset(org_tree_get().descendants(policy.scope_id))
    return PreviewPlan(
        version=version,
        names=names,
        draft_specs=tuple(requirement_specs(draft_requirements, names)),
        sentences=tuple(
            (requirement.label, requirement_sentence(requirement.kind, requirement.params, names))
            for requirement in draft_requirements
        ),
        policy_requirement_ids=policy_requirement_ids,
        scope_unit_ids=scope,
        compiled={},
    )


def preview_scope(plan: PreviewPlan) -> QuerySet[Case]:
    """The open cases the draft's policy covers: its ritual type, and its scope unit's subtree if it has one."""
    scope = Case.objects.open().filter(cycle__ritual_type_id=plan.version.policy.ritual_type_id)
    if plan.scope_unit_ids is not None:
        scope = scope.filter(policy_unit_id__in=plan.scope_unit_ids)
    return scope


def preview_chunk_ids(plan: PreviewPlan, *, chunk_size: int = PREVIEW_CHUNK_SIZE) -> Iterator[list[int]]:
    """The ids of the covered open cases, `chunk_size` at a time in id order (keyset: no list of all cases)."""
    scope = preview_scope(plan).order_by("pk").values_list("pk", flat=True)
    after = 0
    while True:
        ids = list(scope.filter(pk__gt=after)[:chunk_size])
        if not ids:
            return
        yield ids
        after = ids[-1]


@dataclass(frozen=True, slots=True)
class Flip:
    """A flip found in a chunk, before the case's names are loaded."""

    case_id: int
    would_be_compliant: bool
    newly_unmet: tuple[str, ...]
    newly_met: tuple[str, ...]


def _stored_unmet(case_ids: list[int]) -> dict[int, dict[int, bool]]:
    """Stored results per case: requirement id -> met (one query)."""
    stored: dict[int, dict[int, bool]] = defaultdict(dict)
    rows = CaseRequirementResult.objects.filter(case_id__in=case_ids).values_list("case_id", "requirement_id", "met")
    for case_id, requirement_id, met in rows:
        stored[case_id][requirement_id] = met
    return stored


def preview_chunk(plan: PreviewPlan, case_ids: list[int], *, today: dt.date) -> list[Flip]:
    """Evaluate one chunk of open cases with the draft in force and return those whose compliance flips.

    Eight queries whatever the chunk's size: the cases' refs, their stored results, and the engine's inputs.
    """
    refs = [CaseRef(*row) for row in Case.objects.filter(pk__in=case_ids).order_by("pk").values_list(*CASE_REF_FIELDS)]
    inputs = case_inputs_get(refs)
    stored = _stored_unmet(case_ids)
    flips: list[Flip] = []
    for ref in refs:
        current = inputs.specs_by_case.get(ref.pk, ())
        kept = tuple(spec for spec in current if spec.id not in plan.policy_requirement_ids)
        proposed = (plan.draft_specs + kept) if plan.is_baseline else (kept + plan.draft_specs)
        facts = SubjectFacts(
            subject_unit_id=ref.own_unit_id,
            evidence=inputs.facts_by_case.get(ref.pk, []),
            attestations=inputs.attestations_by_case.get(ref.pk, frozenset()),
        )
        as_of = min(today, ref.evidence_deadline)
        blocking = {spec.id: spec.label for spec in current if spec.kind not in MODIFIER_KINDS}
        results = stored.get(ref.pk)
        if results is not None and set(results) == set(blocking):
            unmet_before = {blocking[rid] for rid, met in results.items() if not met}
        else:  # no stored evaluation for this case (or not for all its requirements): evaluate it live
            unmet_before = {r.label for r in plan.evaluator(current).evaluate(facts, as_of).unmet}
            results = None
        if results is not None and _modifiers(current) == _modifiers(proposed):
            # Only the draft's requirements change: evaluate them with the case's modifiers, keep the rest stored.
            changed = plan.draft_specs + tuple(spec for spec in kept if spec.kind in MODIFIER_KINDS)
            kept_unmet = {
                blocking[rid] for rid, met in results.items() if not met and rid not in plan.policy_requirement_ids
            }
            unmet_after = kept_unmet | {r.label for r in plan.evaluator(changed).evaluate(facts, as_of).unmet}
        else:
            unmet_after = {r.label for r in plan.evaluator(proposed).evaluate(facts, as_of).unmet}
        now_compliant, would_be_compliant = not unmet_before, not unmet_after
        if now_compliant != would_be_compliant:
            flips.append(
                Flip(
                    case_id=ref.pk,
                    would_be_compliant=would_be_compliant,
                    newly_unmet=tuple(sorted(unmet_after - unmet_before)),
                    newly_met=tuple(sorted(unmet_before - unmet_after)),
                )
            )
    return flips


def _modifiers(specs: tuple[RequirementSpec, ...]) -> frozenset[int]:
    return frozenset(spec.id for spec in specs if spec.kind in MODIFIER_KINDS)


def preview_rows(flips: list[Flip]) -> list[PreviewRow]:
    """The flips with their case's subject, unit and cycle names (one query)."""
    cases = Case.objects.filter(pk__in=[flip.case_id for flip in flips]).select_related(
        "cycle", "subject_employee", "subject_unit", "policy_unit"
    )
    by_id = {case.pk: case for case in cases}
    return [
        PreviewRow(
            case_id=flip.case_id,
            subject=by_id[flip.case_id].subject_name,
            unit=by_id[flip.case_id].policy_unit.name,
            cycle=by_id[flip.case_id].cycle.name,
            now_compliant=not flip.would_be_compliant,
            would_be_compliant=flip.would_be_compliant,
            newly_unmet=flip.newly_unmet,
            newly_met=flip.newly_met,
            unit_id=by_id[flip.case_id].policy_unit_id,
            cycle_id=by_id[flip.case_id].cycle_id,
        )
        for flip in flips
    ]


def policy_preview(*, version: PolicyVersion, today: dt.date) -> Preview:
    """Preview a draft inside the request (small scopes; large ones run as a `PreviewJob`): all chunks, then names."""
    plan = preview_plan(version=version)
    examined = 0
    flips: list[Flip] = []
    for ids in preview_chunk_ids(plan):
        examined += len(ids)
        flips.extend(preview_chunk(plan, ids, today=today))
    rows = sorted(preview_rows(flips), key=lambda row: row.case_id) if flips else []
    return Preview(version=version, examined=examined, rows=tuple(rows), requirements=plan.sentences)
