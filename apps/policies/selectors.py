"""Reads for policies: the effective policy of a subject, and the inventory of group additions."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from apps.org.selectors import OrgTree, org_tree_get

from .engine import CompiledPolicy, RequirementSpec, compile_policy
from .engine.requirement_kinds import describe
from .models import EvidenceCategory, PolicyVersion, Requirement, RequirementTemplate


@dataclass(slots=True)
class EffectivePolicy:
    """The criteria a subject is judged by: the baseline version plus every ancestor group's additions."""

    ritual_type_id: int
    org_unit_id: int | None
    as_of: dt.date
    versions: list[PolicyVersion] = field(default_factory=list)
    requirements: list[Requirement] = field(default_factory=list)
    specs: list[RequirementSpec] = field(default_factory=list)

    @property
    def has_baseline(self) -> bool:
        return any(version.policy.scope_id is None for version in self.versions)

    def compile(self) -> CompiledPolicy:
        """Compile the specs once for evaluating many subjects."""
        return compile_policy(self.specs)


def category_names_get() -> dict[str, str]:
    """Map category codes to names (one query)."""
    return dict(EvidenceCategory.objects.values_list("code", "name"))


def requirement_sentence(kind: str, params: Any, category_names: dict[str, str]) -> str:
    """The plain-language sentence of a requirement ("2 verified Customer story items within 365 days").

    Empty when the params do not (yet) fit the kind, e.g. on a form that has not been saved.
    """
    try:
        return describe(kind, params, category_names=category_names)
    except (KeyError, ValueError, TypeError):
        return ""


def requirement_label(requirement: Requirement, category_names: dict[str, str]) -> str:
    """The checklist label of a requirement: HR's label, or a sentence generated from its params."""
    return requirement.label or describe(requirement.kind, requirement.params, category_names=category_names)


def requirement_specs(requirements: Iterable[Requirement], category_names: dict[str, str]) -> list[RequirementSpec]:
    """Turn stored requirements into engine specs."""
    return [
        RequirementSpec(
            id=requirement.pk,
            kind=requirement.kind,
            params=requirement.params,
            label=requirement_label(requirement, category_names),
            weight=requirement.weight,
        )
        for requirement in requirements
    ]


def effective_policies_get(
    *, ritual_type_id: int, org_unit_ids: Iterable[int | None], as_of: dt.date, tree: OrgTree | None = None
) -> dict[int | None, EffectivePolicy]:
    """Resolve the effective policy for many org units at once, in four queries whatever their number.

    Queries: the org tree, the versions in force, their requirements, the category names.
    """
    tree = tree or org_tree_get()
    unit_ids = list(dict.fromkeys(org_unit_ids))
    chains = {unit_id: tree.ancestors(unit_id) if unit_id is not None else [] for unit_id in unit_ids}
    scopes = {ancestor for chain in chains.values() for ancestor in chain}
    versions = list(
        PolicyVersion.objects.in_force(as_of)
        .filter(policy__ritual_type_id=ritual_type_id)
        .filter(Q(policy__scope__isnull=True) | Q(policy__scope_id__in=scopes))
        .select_related("policy", "policy__scope", "policy__ritual_type")
        .order_by("effective_from", "pk")
    )
    requirements_by_version: dict[int, list[Requirement]] = defaultdict(list)
    for requirement in Requirement.objects.of_versions([v.pk for v in versions]).order_by("order", "pk"):
        requirements_by_version[requirement.version_id].append(requirement)
    names = category_names_get()

    by_scope: dict[int | None, PolicyVersion] = {}
    for version in versions:
        # Overlap is refused on publish; should two remain, the later-starting one wins, deterministically.
        by_scope[version.policy.scope_id] = version

    result: dict[int | None, EffectivePolicy] = {}
    for unit_id in unit_ids:
        # Baseline first, then the additions from the top of the tree down to the unit itself.
        scope_order: list[int | None] = [None, *reversed(chains[unit_id])]
        chosen = [by_scope[scope] for scope in scope_order if scope in by_scope]
        requirements = [r for version in chosen for r in requirements_by_version[version.pk]]
        result[unit_id] = EffectivePolicy(
            ritual_type_id=ritual_type_id,
            org_unit_id=unit_id,
            as_of=as_of,
            versions=chosen,
            requirements=requirements,
            specs=requirement_specs(requirements, names),
        )
    return result


def effective_policy_get(*, ritual_type_id: int, org_unit_id: int | None, as_of: dt.date) -> EffectivePolicy:
    """Resolve the effective policy of one subject's org unit on a date (four queries)."""
    return effective_policies_get(ritual_type_id=ritual_type_id, org_unit_ids=[org_unit_id], as_of=as_of)[org_unit_id]


@dataclass(slots=True)
class InventoryRow:
    """One requirement a group added on top of the baseline."""

    ritual_type: str
    org_unit_id: int
    org_unit: str
    customer_layer: int
    policy_id: int
    version_id: int
    version_number: int
    version_status: str
    requirement_id: int
    kind: str
    description: str
    shared_by: int
    in_baseline: bool


def _fingerprint(kind: str, params: dict[str, Any]) -> str:
    """A canonical key for 'the same requirement', whatever the key order of its params."""
    return kind + json.dumps(params, sort_keys=True, default=str)


def group_additions_inventory(*, as_of: dt.date, ritual_type_id: int | None = None) -> list[InventoryRow]:
    """List, per org unit, the requirements its groups add to the baseline (versions in force on `as_of`).

    `shared_by` counts the groups that chose the same requirement, and `in_baseline` tells whether the
    baseline in force already has it: HR's shortlist for standardising next year. Four queries.
    """
    in_force = (
        PolicyVersion.objects.in_force(as_of)
        .select_related("policy__scope", "policy__ritual_type")
        .order_by("policy__ritual_type__order", "policy__scope__customer_layer", "policy__scope__name")
    )
    if ritual_type_id is not None:
        in_force = in_force.filter(policy__ritual_type_id=ritual_type_id)
    versions = list(in_force)
    requirements = list(Requirement.objects.of_versions([v.pk for v in versions]).order_by("order", "pk"))
    names = category_names_get()
    by_version: dict[int, list[Requirement]] = defaultdict(list)
    for requirement in requirements:
        by_version[requirement.version_id].append(requirement)

    baseline_prints: dict[int, set[str]] = defaultdict(set)
    group_counts: dict[tuple[int, str], set[int]] = defaultdict(set)
    for version in versions:
        for requirement in by_version[version.pk]:
            fingerprint = _fingerprint(requirement.kind, requirement.params)
            if version.policy.scope_id is None:
                baseline_prints[version.policy.ritual_type_id].add(fingerprint)
            else:
                group_counts[(version.policy.ritual_type_id, fingerprint)].add(version.policy.scope_id)

    rows: list[InventoryRow] = []
    for version in versions:
        scope = version.policy.scope
        if scope is None:
            continue
        for requirement in by_version[version.pk]:
            fingerprint = _fingerprint(requirement.kind, requirement.params)
            rows.append(
                InventoryRow(
                    ritual_type=version.policy.ritual_type.name,
                    org_unit_id=scope.pk,
                    org_unit=scope.name,
                    customer_layer=scope.customer_layer,
                    policy_id=version.policy_id,
                    version_id=version.pk,
                    version_number=version.number,
                    version_status=version.status,
                    requirement_id=requirement.pk,
                    kind=requirement.kind,
                    description=requirement_label(requirement, names),
                    shared_by=len(group_counts[(version.policy.ritual_type_id, fingerprint)]),
                    in_baseline=fingerprint in baseline_prints[version.policy.ritual_type_id],
                )
            )
    return rows


def requirement_template_choices() -> list[tuple[RequirementTemplate, str]]:
    """Active templates with their sentences, for the 'add from templates' control (two queries)."""
    names = category_names_get()
    templates = RequirementTemplate.objects.active().select_related("suggested_ritual").order_by("name")
    return [(template, requirement_sentence(template.kind, template.params, names)) for template in templates]


def policy_version_fingerprint(version: PolicyVersion) -> str:
    """A digest of what publishing would freeze (dates and requirements), to notice edits made after review."""
    rows = list(
        version.requirements.order_by("order", "pk").values_list("pk", "kind", "params", "label", "weight", "order")
    )
    payload = json.dumps(
        [str(version.effective_from), str(version.effective_to), version.notes, rows], sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()
