"""Properties of the policy engine that must hold for any facts and any policy (hypothesis, no database)."""

import math
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.policies.engine import (
    Evaluation,
    EvidenceFact,
    RequirementSpec,
    SubjectFacts,
    compile_policy,
    evaluate,
)
from apps.policies.engine.requirement_kinds import ATTESTATION_ROLES, RequirementKind, validate_params

AS_OF = date(2026, 11, 25)
CATEGORIES = ("a", "b", "c", "nps")
TOUCHPOINTS = ("t1", "t2")
UNITS = (None, 1, 2)
# Window lengths and ages that sit on and around each other's edges, plus a spread of ordinary ones.
WINDOWS = (None, 1, 7, 30, 365)
EDGE_AGES = (-1, 0, 1, 2, 6, 7, 8, 29, 30, 31, 364, 365, 366)
STATUSES = ("verified",) * 5 + ("submitted", "draft", "changes_requested", "rejected")
COUNT_KINDS = ("min_evidence", "metric_improvement", "customer_voice", "internal_customer", "responds_to_insights")

# No deadline and no too_slow check: CI shares two cores with other suites, and a slow example is not a bug.
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

measures = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


# Quote/source and metric fields come as whole shapes, so that complete and almost-complete items are common.
VOICES = (
    ("", "", ""),
    ("It took one call.", "ticket", "T-1"),
    ("It took one call.", "ticket", "T-1"),
    (" ", "ticket", "T-1"),
    ("It took one call.", "", "T-1"),
    ("It took one call.", "ticket", " "),
)


@st.composite
def metric_fields(draw: st.DrawFn) -> dict[str, Any]:
    """No metric, a complete one, or one with a part missing."""
    shape = draw(st.sampled_from(("none", "full", "full", "partial")))
    if shape == "none":
        return {"metric_kind": None, "baseline": None, "result": None, "direction": None}
    baseline = draw(st.one_of(st.just(0.0), st.sampled_from((50.0, 100.0, -100.0)), measures))
    fields = {
        "metric_kind": draw(st.sampled_from(("operational", "operational", "outcome"))),
        "baseline": baseline,
        "result": draw(st.one_of(st.sampled_from((baseline, baseline + 5, baseline - 5, 0.0)), measures)),
        "direction": draw(st.sampled_from(("increase", "decrease"))),
    }
    if shape == "partial":
        fields[draw(st.sampled_from(("metric_kind", "baseline", "result", "direction")))] = None
    return fields


@st.composite
def fact_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Everything about a fact except its id."""
    # Mostly recent and often on a window edge, so items collide on dates and windows have something to cut.
    age = draw(st.one_of(st.sampled_from(EDGE_AGES), st.integers(-3, 40), st.integers(-30, 800)))
    quote, source_type, source_reference = draw(st.sampled_from(VOICES))
    return {
        "category_code": draw(st.sampled_from(CATEGORIES)),
        "is_outcome": draw(st.booleans()),
        "status": draw(st.sampled_from(STATUSES)),
        "impact_date": AS_OF - timedelta(days=age),
        "customer_type": draw(st.sampled_from(("external", "internal"))),
        "internal_customer_unit_id": draw(st.sampled_from(UNITS)),
        "touchpoint_code": draw(st.sampled_from((None, *TOUCHPOINTS))),
        "quote": quote,
        "source_type": source_type,
        "source_reference": source_reference,
        "insight_unit_id": draw(st.sampled_from(UNITS)),
        **draw(metric_fields()),
    }


@st.composite
def evidence_lists(draw: st.DrawFn, max_size: int = 14) -> list[EvidenceFact]:
    """Facts with unique ids, in arbitrary order."""
    # Draw the size first: hypothesis favours short lists, and a policy needs a few items to be interesting.
    size = draw(st.integers(0, max_size))
    bodies = draw(st.lists(fact_fields(), min_size=size, max_size=size))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=len(bodies), max_size=len(bodies), unique=True))
    return [EvidenceFact(id=i, **body) for i, body in zip(ids, bodies, strict=True)]


@st.composite
def requirement_params(draw: st.DrawFn, kind: RequirementKind) -> dict[str, Any]:
    """Raw params for a kind, cleaned by validate_params exactly as on save."""
    window = draw(st.sampled_from(WINDOWS))
    count = draw(st.integers(1, 4))
    categories = draw(st.lists(st.sampled_from(CATEGORIES), max_size=2, unique=True))
    raw: dict[str, Any]
    if kind is RequirementKind.MIN_EVIDENCE:
        raw = {
            "count": count,
            "categories": categories,
            "customer_type": draw(st.sampled_from(("any", "external", "internal"))),
            "touchpoints": draw(st.lists(st.sampled_from(TOUCHPOINTS), max_size=1)),
            "within_days": window,
        }
    elif kind is RequirementKind.METRIC_IMPROVEMENT:
        pct = draw(st.one_of(st.sampled_from((0, 5, 10, 1000)), st.floats(0, 1000)))
        raw = {"count": count, "min_improvement_pct": pct, "categories": categories, "within_days": window}
    elif kind is RequirementKind.OUTCOME_CAP:
        raw = {"max": draw(st.integers(0, 3))}
    elif kind is RequirementKind.ATTESTATION:
        raw = {"role": draw(st.sampled_from(ATTESTATION_ROLES))}
    else:
        raw = {"count": count, "within_days": window}
    return validate_params(kind, raw, category_codes=CATEGORIES, touchpoint_codes=TOUCHPOINTS)


@st.composite
def policies(draw: st.DrawFn) -> list[RequirementSpec]:
    """Zero to six requirements of any kinds, several caps included."""
    size = draw(st.integers(0, 6))
    kinds = draw(st.lists(st.sampled_from(list(RequirementKind)), min_size=size, max_size=size))
    return [
        RequirementSpec(i, kind, draw(requirement_params(kind)), weight=draw(st.integers(1, 3)))
        for i, kind in enumerate(kinds, start=1)
    ]


@st.composite
def full_policies(draw: st.DrawFn) -> list[RequirementSpec]:
    """One requirement of every evidence-counting kind, usually with one or two caps, in random order."""
    kinds = [*COUNT_KINDS, "distinct_categories", "attestation"]
    kinds += draw(st.sampled_from(([], ["outcome_cap"], ["outcome_cap"], ["outcome_cap", "outcome_cap"])))
    kinds = draw(st.permutations(kinds))
    return [
        RequirementSpec(id=i, kind=kind, params=draw(requirement_params(RequirementKind(kind))))
        for i, kind in enumerate(kinds, start=1)
    ]


@st.composite
def subjects(draw: st.DrawFn) -> SubjectFacts:
    """One subject: a unit, evidence and attestations."""
    attestations = frozenset(draw(st.lists(st.sampled_from(ATTESTATION_ROLES), max_size=2)))
    return SubjectFacts(draw(st.sampled_from(UNITS)), draw(evidence_lists()), attestations)


def lower_bound(spec: RequirementSpec) -> date:
    days = spec.params.get("within_days")
    return date.min if days is None else AS_OF - timedelta(days=days)


def reference_qualifies(f: EvidenceFact, spec: RequirementSpec, unit: int | None) -> bool:
    """A deliberately plain restatement of docs/engine.md, to check the optimised engine against."""
    p = spec.params
    if f.status != "verified" or not lower_bound(spec) <= f.impact_date <= AS_OF:
        return False
    if spec.kind == "min_evidence":
        return (
            (not p["categories"] or f.category_code in p["categories"])
            and p["customer_type"] in ("any", f.customer_type)
            and (not p["touchpoints"] or f.touchpoint_code in p["touchpoints"])
        )
    if spec.kind == "metric_improvement":
        if p["categories"] and f.category_code not in p["categories"]:
            return False
        if f.metric_kind != "operational" or f.baseline is None or f.result is None:
            return False
        if f.direction not in ("increase", "decrease"):
            return False
        gain = f.result - f.baseline if f.direction == "increase" else f.baseline - f.result
        if gain <= 0:
            return False
        pct = math.inf if f.baseline == 0 else gain / abs(f.baseline) * 100
        return pct >= p["min_improvement_pct"]
    if spec.kind == "customer_voice":
        return bool(f.quote.strip() and f.source_type.strip() and f.source_reference.strip())
    if spec.kind == "internal_customer":
        return f.customer_type == "internal" and f.internal_customer_unit_id not in (None, unit)
    if spec.kind == "responds_to_insights":
        return f.insight_unit_id is not None and f.insight_unit_id == unit
    return spec.kind == "distinct_categories"


def cap_of(policy: list[RequirementSpec]) -> int | None:
    return min((s.params["max"] for s in policy if s.kind == "outcome_cap"), default=None)


def reference_have(spec: RequirementSpec, facts: SubjectFacts, cap: int | None) -> int:
    qualifying = [f for f in facts.evidence if reference_qualifies(f, spec, facts.subject_unit_id)]
    if spec.kind == "distinct_categories":
        if cap is None:
            return len({f.category_code for f in qualifying})
        plain = {f.category_code for f in qualifying if not f.is_outcome}
        survey_only = {f.category_code for f in qualifying if f.is_outcome} - plain
        return len(plain) + min(cap, len(survey_only))
    outcome = sum(f.is_outcome for f in qualifying)
    return len(qualifying) - outcome + (outcome if cap is None else min(cap, outcome))


def met_by_id(evaluation: Evaluation) -> dict[int, bool]:
    return {r.requirement_id: r.met for r in evaluation.results}


@PROPERTY_SETTINGS
@given(policy=policies(), facts=subjects(), data=st.data())
def test_evaluation_is_deterministic_whatever_the_fact_order(
    policy: list[RequirementSpec], facts: SubjectFacts, data: st.DataObject
) -> None:
    reordered = data.draw(st.permutations(facts.evidence))
    shuffled = SubjectFacts(facts.subject_unit_id, reordered, facts.attestations)
    first = evaluate(policy, facts, AS_OF)
    assert evaluate(policy, facts, AS_OF) == first
    assert evaluate(policy, shuffled, AS_OF) == first


@PROPERTY_SETTINGS
@given(policy=full_policies(), facts=subjects(), extra=fact_fields())
def test_adding_a_verified_item_never_turns_a_met_requirement_unmet(
    policy: list[RequirementSpec], facts: SubjectFacts, extra: dict[str, Any]
) -> None:
    new_id = max((f.id for f in facts.evidence), default=0) + 1
    grown = SubjectFacts(
        facts.subject_unit_id,
        [*facts.evidence, EvidenceFact(id=new_id, **{**extra, "status": "verified"})],
        facts.attestations,
    )
    before, after = evaluate(policy, facts, AS_OF), evaluate(policy, grown, AS_OF)
    after_met = met_by_id(after)
    assert all(after_met[rid] for rid, met in met_by_id(before).items() if met)
    assert after.compliant or not before.compliant
    assert after.score >= before.score


@PROPERTY_SETTINGS
@given(policy=full_policies(), facts=subjects())
def test_no_counted_item_lies_outside_its_window(policy: list[RequirementSpec], facts: SubjectFacts) -> None:
    by_id = {f.id: f for f in facts.evidence}
    specs = {s.id: s for s in policy}
    for result in evaluate(policy, facts, AS_OF).results:
        lower = lower_bound(specs[result.requirement_id])
        assert all(lower <= by_id[i].impact_date <= AS_OF for i in result.counted_ids)


@PROPERTY_SETTINGS
@given(policy=full_policies(), facts=subjects())
def test_counted_ids_are_always_verified_items(policy: list[RequirementSpec], facts: SubjectFacts) -> None:
    by_id = {f.id: f for f in facts.evidence}
    for result in evaluate(policy, facts, AS_OF).results:
        assert all(by_id[i].status == "verified" for i in result.counted_ids)


@PROPERTY_SETTINGS
@given(policy=full_policies(), facts=subjects())
def test_counted_ids_are_unique_newest_first_and_match_have(
    policy: list[RequirementSpec],
    facts: SubjectFacts,
) -> None:
    by_id = {f.id: f for f in facts.evidence}
    for result in evaluate(policy, facts, AS_OF).results:
        keys = [(-by_id[i].impact_date.toordinal(), i) for i in result.counted_ids]
        assert keys == sorted(set(keys))
        if result.kind in (*COUNT_KINDS, "distinct_categories"):
            assert result.have == len(result.counted_ids)
            assert result.met == (result.have >= result.need)


@PROPERTY_SETTINGS
@given(policy=full_policies(), facts=subjects())
def test_counts_agree_with_a_plain_reference_implementation(
    policy: list[RequirementSpec],
    facts: SubjectFacts,
) -> None:
    cap = cap_of(policy)
    specs = {s.id: s for s in policy}
    for result in evaluate(policy, facts, AS_OF).results:
        spec = specs[result.requirement_id]
        if spec.kind in (*COUNT_KINDS, "distinct_categories"):
            assert result.have == reference_have(spec, facts, cap), result.reason
        elif spec.kind == "attestation":
            assert result.met == (spec.params["role"] in facts.attestations)


@PROPERTY_SETTINGS
@given(policy=full_policies(), facts=subjects())
def test_no_requirement_counts_more_survey_scores_than_the_cap(
    policy: list[RequirementSpec], facts: SubjectFacts
) -> None:
    cap = cap_of(policy)
    outcome_ids = {f.id for f in facts.evidence if f.is_outcome}
    for result in evaluate(policy, facts, AS_OF).results:
        if cap is not None:
            assert len(outcome_ids.intersection(result.counted_ids)) <= cap


@PROPERTY_SETTINGS
@given(policy=policies(), facts=subjects())
def test_compliance_and_score_follow_the_non_modifier_results(
    policy: list[RequirementSpec], facts: SubjectFacts
) -> None:
    evaluation = evaluate(policy, facts, AS_OF)
    checked = [r for r in evaluation.results if r.kind != "outcome_cap"]
    assert [r.requirement_id for r in evaluation.results] == [s.id for s in policy]
    assert evaluation.compliant == all(r.met for r in checked)
    assert all(r.met for r in evaluation.results if r.kind == "outcome_cap")
    assert 0.0 <= evaluation.score <= 1.0
    assert (evaluation.score == 1.0) == evaluation.compliant
    assert all(r.reason.startswith(("Met: ", "Not met: ", "Applied: ")) for r in evaluation.results)
    assert all(r.reason.endswith(".") and "\n" not in r.reason for r in evaluation.results)


@settings(PROPERTY_SETTINGS, max_examples=50)
@given(policy=policies(), batch=st.lists(subjects(), max_size=5))
def test_evaluate_many_equals_evaluating_each_subject(
    policy: list[RequirementSpec],
    batch: list[SubjectFacts],
) -> None:
    compiled = compile_policy(policy)
    assert compiled.evaluate_many(batch, AS_OF) == [evaluate(policy, s, AS_OF) for s in batch]
