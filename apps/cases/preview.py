"""Policy preview: which open cases would change compliance if a draft version were in force."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from apps.org.selectors import org_tree_get
from apps.policies.engine import CompiledPolicy, SubjectFacts, compile_policy
from apps.policies.models import PolicyVersion
from apps.policies.selectors import requirement_sentence, requirement_specs

from .models import Case
from .selectors import case_inputs_get, case_ref


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


def policy_preview(*, version: PolicyVersion, today: dt.date) -> Preview:
    """Evaluate the open cases the draft's policy covers, with and without the draft; list those that flip.

    A draft replaces its policy's pinned version on each case (or is added when the case had none of that
    policy). Bulk: a fixed number of queries whatever the number of cases.
    """
    policy = version.policy
    scope = Case.objects.open().filter(cycle__ritual_type_id=policy.ritual_type_id)
    if policy.scope_id is not None:
        scope = scope.filter(policy_unit_id__in=org_tree_get().descendants(policy.scope_id))
    cases = list(scope.select_related("cycle", "subject_employee", "subject_unit", "policy_unit"))
    refs = {case.pk: case_ref(case) for case in cases}
    inputs = case_inputs_get(list(refs.values()))
    names = inputs.category_names
    draft_requirements = list(version.requirements.order_by("order", "pk"))
    draft_specs = tuple(requirement_specs(draft_requirements, names))
    sentences = tuple(
        (requirement.label, requirement_sentence(requirement.kind, requirement.params, names))
        for requirement in draft_requirements
    )
    policy_requirement_ids = set(
        version.policy.versions.values_list("requirements__pk", flat=True).exclude(requirements__pk__isnull=True)
    )

    rows: list[PreviewRow] = []
    compiled: dict[tuple[int, ...], CompiledPolicy] = {}
    for case in cases:
        current = inputs.specs_by_case.get(case.pk, ())
        kept = tuple(spec for spec in current if spec.id not in policy_requirement_ids)
        proposed = (draft_specs + kept) if policy.scope_id is None else (kept + draft_specs)
        facts = SubjectFacts(
            subject_unit_id=refs[case.pk].own_unit_id,
            evidence=inputs.facts_by_case.get(case.pk, []),
            attestations=inputs.attestations_by_case.get(case.pk, frozenset()),
        )
        as_of = case.cycle.evidence_as_of(today)
        results = []
        for specs in (current, proposed):
            key = tuple(spec.id for spec in specs)
            if key not in compiled:
                compiled[key] = compile_policy(specs, category_names=names)
            results.append(compiled[key].evaluate(facts, as_of))
        before, after = results
        if before.compliant == after.compliant:
            continue
        unmet_before = {r.label for r in before.unmet}
        unmet_after = {r.label for r in after.unmet}
        rows.append(
            PreviewRow(
                case_id=case.pk,
                subject=case.subject_name,
                unit=case.policy_unit.name,
                cycle=case.cycle.name,
                now_compliant=before.compliant,
                would_be_compliant=after.compliant,
                newly_unmet=tuple(sorted(unmet_after - unmet_before)),
                newly_met=tuple(sorted(unmet_before - unmet_after)),
            )
        )
    return Preview(version=version, examined=len(cases), rows=tuple(rows), requirements=sentences)
