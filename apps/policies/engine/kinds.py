"""How each requirement kind is compiled into a rule: its picker (which verified items count) and its explainer
(what to say when too few do)."""

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .facts import Fact, RequirementSpec, _improves, improvement_pct
from .requirement_kinds import RequirementKind
from .rules import (
    _AttestationRule,
    _CountRule,
    _DistinctCategoriesRule,
    _fmt_pct,
    _Picker,
    _plural,
    _Rule,
)


def _min_evidence_picker(params: Mapping[str, Any]) -> _Picker:
    categories = frozenset(params.get("categories") or ())
    touchpoints = frozenset(params.get("touchpoints") or ())
    customer_type = params.get("customer_type") or "any"
    any_type = customer_type == "any"
    # Specialise the common shapes: every test skipped is an attribute load saved per item.
    if not touchpoints and any_type:
        if not categories:
            return lambda items, unit: list(items)
        return lambda items, unit: [f for f in items if f.category_code in categories]
    return lambda items, unit: [
        f
        for f in items
        if (not categories or f.category_code in categories)
        and (any_type or f.customer_type == customer_type)
        and (not touchpoints or f.touchpoint_code in touchpoints)
    ]


def _metric_rule(spec: RequirementSpec, kind: RequirementKind, names: Mapping[str, str] | None) -> _CountRule:
    categories = frozenset(spec.params.get("categories") or ())
    min_pct = float(spec.params.get("min_improvement_pct") or 0)

    def pick(items: Sequence[Fact], unit: int | None) -> list[Fact]:
        return [
            f
            for f in items
            if f.metric_kind == "operational"
            and (not categories or f.category_code in categories)
            and _improves(f, min_pct)
        ]

    def explain(window: Sequence[Fact], unit: int | None) -> list[str]:
        wanted = [f for f in reversed(window) if not categories or f.category_code in categories]
        relevant = [f for f in wanted if f.metric_kind]
        outcome_metrics = sum(1 for f in relevant if f.metric_kind == "outcome")
        pcts = [p for p in map(improvement_pct, relevant) if p is not None and not math.isnan(p)]
        short = [p for p in pcts if 0 < p < min_pct]
        flat = sum(1 for p in pcts if p <= 0)
        notes = []
        if short:
            shown = " and ".join(f"{_fmt_pct(p)}%" for p in short[:3])
            notes.append(f"{_plural(len(short), 'item', 'items')} improved only {shown}")
        if flat:
            notes.append(f"{_plural(flat, 'item', 'items')} did not improve")
        if outcome_metrics:
            what = _plural(outcome_metrics, "outcome-metric item", "outcome-metric items")
            notes.append(f"{what} not counted (only operational metrics count)")
        return notes

    return _CountRule(spec, kind, pick, explain, names)


def _voice_pick(items: Sequence[Fact], unit: int | None) -> list[Fact]:
    # The truthiness tests reject most items before any strip(); whitespace alone quotes nothing.
    return [
        f
        for f in items
        if f.quote
        and f.source_type
        and f.source_reference
        and f.quote.strip()
        and f.source_type.strip()
        and f.source_reference.strip()
    ]


def _voice_explain(window: Sequence[Fact], unit: int | None) -> list[str]:
    quoted = [f for f in window if f.quote.strip()]
    unsourced = sum(1 for f in quoted if not (f.source_type.strip() and f.source_reference.strip()))
    if unsourced:
        return [f"{_plural(unsourced, 'quote has', 'quotes have')} no named source (type and reference)"]
    return []


def _internal_pick(items: Sequence[Fact], unit: int | None) -> list[Fact]:
    return [
        f
        for f in items
        if f.customer_type == "internal"
        and f.internal_customer_unit_id is not None
        and f.internal_customer_unit_id != unit
    ]


def _internal_explain(window: Sequence[Fact], unit: int | None) -> list[str]:
    internal = [f.internal_customer_unit_id for f in window if f.customer_type == "internal"]
    own = sum(1 for other in internal if other is not None and other == unit)
    unnamed = internal.count(None)
    notes = []
    if own:
        notes.append(f"{_plural(own, 'internal item is', 'internal items are')} for the subject's own unit")
    if unnamed:
        notes.append(f"{_plural(unnamed, 'internal item names', 'internal items name')} no customer unit")
    return notes


def _insight_pick(items: Sequence[Fact], unit: int | None) -> list[Fact]:
    # Only insights of the subject's own unit count: answering another group's customers is that group's work.
    return [f for f in items if f.insight_unit_id is not None and f.insight_unit_id == unit]


def _insight_explain(window: Sequence[Fact], unit: int | None) -> list[str]:
    elsewhere = sum(1 for f in window if f.insight_unit_id is not None and f.insight_unit_id != unit)
    if elsewhere:
        what = _plural(elsewhere, "response answers", "responses answer")
        return [f"{what} insights sent to another group"]
    return []


def _compile_rule(spec: RequirementSpec, names: Mapping[str, str] | None) -> _Rule | None:
    try:
        kind = RequirementKind(spec.kind)
    except ValueError:
        raise ValueError(f"Requirement {spec.id}: unknown requirement kind {spec.kind!r}.") from None
    if kind is RequirementKind.OUTCOME_CAP:
        return None
    if kind is RequirementKind.MIN_EVIDENCE:
        return _CountRule(spec, kind, _min_evidence_picker(spec.params), None, names)
    if kind is RequirementKind.METRIC_IMPROVEMENT:
        return _metric_rule(spec, kind, names)
    if kind is RequirementKind.DISTINCT_CATEGORIES:
        return _DistinctCategoriesRule(spec, kind, names)
    if kind is RequirementKind.CUSTOMER_VOICE:
        return _CountRule(spec, kind, _voice_pick, _voice_explain, names)
    if kind is RequirementKind.INTERNAL_CUSTOMER:
        return _CountRule(spec, kind, _internal_pick, _internal_explain, names)
    if kind is RequirementKind.RESPONDS_TO_INSIGHTS:
        return _CountRule(spec, kind, _insight_pick, _insight_explain, names)
    return _AttestationRule(spec, kind, names)
