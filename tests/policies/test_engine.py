"""The policy engine, by example: every kind, its boundaries and its reasons (no database)."""

from datetime import date, timedelta
from typing import Any

import pytest

from apps.policies.engine import (
    CompiledPolicy,
    Evaluation,
    EvidenceFact,
    RequirementSpec,
    SubjectFacts,
    compile_policy,
    counting_order,
    evaluate,
    evaluate_many,
    improvement_pct,
)

AS_OF = date(2026, 11, 25)
OWN_UNIT = 10
OTHER_UNIT = 20


def fact(
    id: int,
    category: str = "customer_story",
    *,
    days_ago: int = 10,
    status: str = "verified",
    is_outcome: bool = False,
    **fields: Any,
) -> EvidenceFact:
    """A verified customer story from ten days ago unless told otherwise."""
    return EvidenceFact(
        id=id,
        category_code=category,
        is_outcome=is_outcome,
        status=status,
        impact_date=AS_OF - timedelta(days=days_ago),
        **fields,
    )


def survey(id: int, *, days_ago: int = 10, category: str = "nps") -> EvidenceFact:
    """A verified survey-score (outcome) item."""
    return fact(id, category, days_ago=days_ago, is_outcome=True)


def metric(
    id: int, baseline: float | None, result: float | None, direction: str | None = "increase", **kw: Any
) -> EvidenceFact:
    """A verified operational-metric item."""
    kw.setdefault("metric_kind", "operational")
    return fact(id, "operational_metric", baseline=baseline, result=result, direction=direction, **kw)


def quote(
    id: int, text: str = "It took one call.", source_type: str = "ticket", ref: str = "T-1", **kw: Any
) -> EvidenceFact:
    """A verified item quoting the customer."""
    return fact(id, "customer_voice", quote=text, source_type=source_type, source_reference=ref, **kw)


def internal(id: int, unit: int | None = OTHER_UNIT, **kw: Any) -> EvidenceFact:
    """A verified item whose customer is an internal unit."""
    return fact(id, "handoff", customer_type="internal", internal_customer_unit_id=unit, **kw)


def req(kind: str, id: int = 1, *, weight: int = 1, label: str = "", **params: Any) -> RequirementSpec:
    """A requirement with cleaned params (defaults filled as validate_params would)."""
    defaults: dict[str, dict[str, Any]] = {
        "min_evidence": {"categories": [], "customer_type": "any", "touchpoints": [], "within_days": None},
        "metric_improvement": {"min_improvement_pct": 0, "categories": [], "within_days": None},
        "distinct_categories": {"within_days": None},
        "customer_voice": {"within_days": None},
        "internal_customer": {"within_days": None},
    }
    params = {**defaults.get(kind, {}), **params}
    return RequirementSpec(id=id, kind=kind, params=params, label=label, weight=weight)


def run(
    requirements: list[RequirementSpec],
    evidence: list[EvidenceFact],
    *,
    unit: int | None = OWN_UNIT,
    attestations: frozenset[str] = frozenset(),
    as_of: date = AS_OF,
) -> Evaluation:
    return evaluate(requirements, SubjectFacts(unit, evidence, attestations), as_of)


def only(requirement: RequirementSpec, evidence: list[EvidenceFact], **kw: Any) -> Any:
    """The single result of a one-requirement policy."""
    return run([requirement], evidence, **kw).results[0]


# --- min_evidence ------------------------------------------------------------------------------------


def test_min_evidence_met_with_exactly_n_items() -> None:
    result = only(req("min_evidence", count=2), [fact(1), fact(2)])
    assert (result.met, result.have, result.need) == (True, 2, 2)


def test_min_evidence_not_met_with_one_item_short() -> None:
    result = only(req("min_evidence", count=2), [fact(1)])
    assert (result.met, result.have, result.need) == (False, 1, 2)


def test_met_reason_gives_the_counts_and_what_was_counted() -> None:
    requirement = req("min_evidence", count=2, categories=["customer_story"], within_days=365)
    result = only(requirement, [fact(1), fact(2)])
    assert result.reason == "Met: 2 of 2 verified customer_story items within 365 days."


def test_met_reason_with_a_surplus_says_how_many_were_needed() -> None:
    result = only(req("min_evidence", count=2), [fact(1), fact(2), fact(3)])
    assert result.reason == "Met: 3 verified items (2 needed)."


def test_unmet_reason_gives_the_counts() -> None:
    result = only(req("min_evidence", count=2, categories=["customer_story"], within_days=365), [fact(1)])
    assert result.reason == "Not met: 1 of 2 verified customer_story items within 365 days."


def test_min_evidence_counts_only_the_listed_categories() -> None:
    evidence = [fact(1, "customer_story"), fact(2, "handoff"), fact(3, "collaboration")]
    result = only(req("min_evidence", count=2, categories=["customer_story", "handoff"]), evidence)
    assert result.met and result.counted_ids == (1, 2)


def test_min_evidence_without_categories_accepts_any_category() -> None:
    evidence = [fact(1, "customer_story"), fact(2, "handoff"), fact(3, "collaboration")]
    assert only(req("min_evidence", count=3), evidence).have == 3


@pytest.mark.parametrize(
    ("customer_type", "expected"),
    [("any", (1, 2)), ("external", (1,)), ("internal", (2,))],
)
def test_min_evidence_filters_by_customer_type(customer_type: str, expected: tuple[int, ...]) -> None:
    evidence = [fact(1, customer_type="external"), internal(2)]
    result = only(req("min_evidence", count=1, customer_type=customer_type), evidence)
    assert result.counted_ids == expected


def test_min_evidence_filters_by_touchpoint() -> None:
    evidence = [fact(1, touchpoint_code="support"), fact(2, touchpoint_code="billing"), fact(3)]
    result = only(req("min_evidence", count=1, touchpoints=["support", "onboarding"]), evidence)
    assert result.counted_ids == (1,)


def test_item_dated_exactly_within_days_ago_counts() -> None:
    result = only(req("min_evidence", count=1, within_days=365), [fact(1, days_ago=365)])
    assert result.met


def test_item_dated_one_day_before_window_does_not_count() -> None:
    result = only(req("min_evidence", count=1, within_days=365), [fact(1, days_ago=366)])
    assert not result.met
    assert result.reason == (
        "Not met: 0 of 1 verified item within 365 days; 1 matching item is older than the 365-day window."
    )


def test_item_dated_on_as_of_counts() -> None:
    assert only(req("min_evidence", count=1, within_days=1), [fact(1, days_ago=0)]).met


def test_one_day_window_covers_yesterday_and_today_only() -> None:
    evidence = [fact(1, days_ago=0), fact(2, days_ago=1), fact(3, days_ago=2)]
    assert only(req("min_evidence", count=1, within_days=1), evidence).counted_ids == (1, 2)


@pytest.mark.parametrize("within_days", [None, 30])
def test_future_dated_item_does_not_count(within_days: int | None) -> None:
    result = only(req("min_evidence", count=1, within_days=within_days), [fact(1, days_ago=-1)])
    assert not result.met
    assert "1 matching item is dated after 2026-11-25" in result.reason


def test_without_window_old_items_count() -> None:
    assert only(req("min_evidence", count=1), [fact(1, days_ago=10_000)]).met


@pytest.mark.parametrize("status", ["draft", "submitted", "changes_requested", "rejected", "VERIFIED", ""])
def test_unverified_items_never_count(status: str) -> None:
    policy = [
        req("min_evidence", 1, count=1),
        req("metric_improvement", 2, count=1),
        req("distinct_categories", 3, count=1),
        req("customer_voice", 4, count=1),
        req("internal_customer", 5, count=1),
    ]
    evidence = [
        fact(1, status=status),
        metric(2, 10, 20, status=status),
        quote(3, status=status),
        internal(4, status=status),
    ]
    evaluation = run(policy, evidence)
    assert all(r.have == 0 and r.counted_ids == () and not r.met for r in evaluation.results)


def test_unmet_reason_mentions_items_not_yet_verified() -> None:
    evidence = [
        fact(1),
        fact(2, status="submitted"),
        fact(3, status="changes_requested"),
        fact(4, status="rejected"),
    ]
    result = only(req("min_evidence", count=3), evidence)
    assert result.reason == "Not met: 1 of 3 verified items; 2 matching items not yet verified."


def test_counted_ids_list_every_counting_item_newest_first_then_by_id() -> None:
    evidence = [fact(5, days_ago=3), fact(2, days_ago=1), fact(9, days_ago=1), fact(1, days_ago=7)]
    result = only(req("min_evidence", count=1), evidence)
    assert result.counted_ids == (2, 9, 5, 1)
    assert result.have == 4


def test_counting_order_is_newest_first_then_ascending_id() -> None:
    ordered = counting_order([fact(3, days_ago=2), fact(1, days_ago=2), fact(2, days_ago=0)])
    assert [f.id for f in ordered] == [2, 1, 3]


# --- metric_improvement ------------------------------------------------------------------------------


def test_metric_improvement_counts_an_increase_at_exactly_the_threshold() -> None:
    result = only(req("metric_improvement", count=1, min_improvement_pct=10), [metric(1, 50, 55)])
    assert result.met and result.counted_ids == (1,)


def test_metric_improvement_just_below_threshold_says_by_how_much() -> None:
    result = only(req("metric_improvement", count=1, min_improvement_pct=10), [metric(1, 50, 52)])
    assert not result.met
    expected = "Not met: 0 of 1 operational-metric improvement of at least 10%; 1 item improved only 4%."
    assert result.reason == expected


def test_metric_improvement_decrease_direction_counts_a_drop() -> None:
    evidence = [metric(1, 100, 90, "decrease"), metric(2, 100, 110, "decrease")]
    result = only(req("metric_improvement", count=1, min_improvement_pct=10), evidence)
    assert result.counted_ids == (1,)


def test_metric_improvement_with_zero_threshold_needs_a_strict_improvement() -> None:
    evidence = [metric(1, 100, 100), metric(2, 100, 100.5)]
    result = only(req("metric_improvement", count=2), evidence)
    assert result.counted_ids == (2,)
    assert "1 item did not improve" in result.reason


def test_metric_improvement_from_zero_baseline_counts_any_strict_improvement() -> None:
    evidence = [metric(1, 0, 1), metric(2, 0, 0), metric(3, 0, -1)]
    result = only(req("metric_improvement", count=1, min_improvement_pct=1000), evidence)
    assert result.counted_ids == (1,)


def test_metric_improvement_uses_the_absolute_baseline() -> None:
    # From -100 to -50 is +50 on a base of 100: a 50% improvement when higher is better.
    assert improvement_pct(metric(1, -100, -50)) == 50
    assert only(req("metric_improvement", count=1, min_improvement_pct=50), [metric(1, -100, -50)]).met


def test_improvement_pct_follows_the_documented_formula() -> None:
    assert improvement_pct(metric(1, 200, 230)) == 15
    assert improvement_pct(metric(1, 200, 170, "decrease")) == 15
    assert improvement_pct(metric(1, 200, 230, "decrease")) == -15
    assert improvement_pct(metric(1, 0, 5)) == float("inf")
    assert improvement_pct(metric(1, 0, -5)) == 0
    assert improvement_pct(metric(1, 200, 230, metric_kind="outcome")) is None


def test_metric_improvement_never_counts_outcome_metrics() -> None:
    evidence = [metric(1, 10, 90, metric_kind="outcome")]
    result = only(req("metric_improvement", count=1), evidence)
    assert not result.met
    assert "1 outcome-metric item not counted (only operational metrics count)" in result.reason


@pytest.mark.parametrize(
    "item",
    [
        metric(1, None, 20),
        metric(1, 10, None),
        metric(1, 10, 20, None),
        metric(1, 10, 20, "sideways"),
        fact(1),
    ],
)
def test_metric_improvement_ignores_items_missing_baseline_result_or_direction(item: EvidenceFact) -> None:
    assert not only(req("metric_improvement", count=1), [item]).met


def test_metric_improvement_respects_categories_and_window() -> None:
    evidence = [
        metric(1, 10, 20),
        metric(2, 10, 20, days_ago=400),
        fact(3, "handoff", metric_kind="operational", baseline=10, result=20, direction="increase"),
    ]
    requirement = req("metric_improvement", count=1, categories=["operational_metric"], within_days=365)
    result = only(requirement, evidence)
    assert result.counted_ids == (1,)


# --- distinct_categories -----------------------------------------------------------------------------


def test_distinct_categories_met_when_items_span_k_categories() -> None:
    evidence = [fact(1, "a"), fact(2, "b"), fact(3, "c"), fact(4, "a")]
    result = only(req("distinct_categories", count=3), evidence)
    assert (result.met, result.have) == (True, 3)


def test_distinct_categories_not_met_with_k_minus_one_lists_what_is_covered() -> None:
    result = only(req("distinct_categories", count=3), [fact(1, "b"), fact(2, "a"), fact(3, "a")])
    assert not result.met
    assert result.reason == "Not met: 2 of 3 distinct categories covered by verified evidence; covered: a, b."


def test_distinct_categories_count_one_representative_per_category_the_newest() -> None:
    evidence = [
        fact(1, "a", days_ago=30),
        fact(2, "a", days_ago=5),
        fact(3, "b", days_ago=9),
        fact(4, "b", days_ago=9),
    ]
    result = only(req("distinct_categories", count=2), evidence)
    assert result.counted_ids == (2, 3)
    assert result.have == 2


def test_distinct_categories_respect_the_window() -> None:
    evidence = [fact(1, "a", days_ago=10), fact(2, "b", days_ago=31)]
    assert only(req("distinct_categories", count=2, within_days=30), evidence).have == 1


def test_distinct_categories_reason_uses_category_names_when_given() -> None:
    policy = compile_policy([req("distinct_categories", count=2)], category_names={"a": "Customer story"})
    evaluation = policy.evaluate(SubjectFacts(OWN_UNIT, [fact(1, "a")]), AS_OF)
    assert evaluation.results[0].reason.endswith("covered: Customer story.")


# --- customer_voice ----------------------------------------------------------------------------------


def test_customer_voice_counts_a_quote_with_source_type_and_reference() -> None:
    assert only(req("customer_voice", count=1), [quote(1)]).counted_ids == (1,)


@pytest.mark.parametrize(("source_type", "ref"), [("", "T-1"), ("ticket", ""), ("", "")])
def test_customer_voice_ignores_a_quote_without_named_source_and_says_so(source_type: str, ref: str) -> None:
    result = only(req("customer_voice", count=1), [quote(1, source_type=source_type, ref=ref)])
    assert not result.met
    assert "1 quote has no named source (type and reference)" in result.reason


def test_customer_voice_ignores_a_source_without_quote() -> None:
    assert not only(req("customer_voice", count=1), [quote(1, text="")]).met


def test_customer_voice_treats_whitespace_as_empty() -> None:
    evidence = [quote(1, text="   "), quote(2, source_type=" "), quote(3, ref="\n")]
    assert only(req("customer_voice", count=1), evidence).have == 0


def test_customer_voice_respects_the_window() -> None:
    evidence = [quote(1, days_ago=100), quote(2, days_ago=101)]
    assert only(req("customer_voice", count=2, within_days=100), evidence).counted_ids == (1,)


# --- internal_customer -------------------------------------------------------------------------------


def test_internal_customer_counts_another_unit() -> None:
    assert only(req("internal_customer", count=1), [internal(1)]).met


def test_internal_customer_ignores_the_subjects_own_unit_and_says_so() -> None:
    result = only(req("internal_customer", count=1), [internal(1, unit=OWN_UNIT)])
    assert not result.met
    assert result.reason == (
        "Not met: 0 of 1 verified item for an internal customer in another unit; "
        "1 internal item is for the subject's own unit."
    )


def test_internal_customer_ignores_items_without_a_customer_unit() -> None:
    result = only(req("internal_customer", count=1), [internal(1, unit=None)])
    assert not result.met
    assert "1 internal item names no customer unit" in result.reason


def test_internal_customer_ignores_external_customers_even_with_a_unit() -> None:
    item = fact(1, customer_type="external", internal_customer_unit_id=OTHER_UNIT)
    assert not only(req("internal_customer", count=1), [item]).met


def test_internal_customer_counts_any_named_unit_when_the_subject_has_none() -> None:
    assert only(req("internal_customer", count=1), [internal(1)], unit=None).met


# --- outcome_cap -------------------------------------------------------------------------------------


def test_outcome_cap_limits_survey_scores_per_requirement() -> None:
    policy = [
        req("min_evidence", 1, count=2),
        req("min_evidence", 2, count=1, categories=["nps"]),
        req("outcome_cap", 3, max=1),
    ]
    evaluation = run(policy, [survey(1, days_ago=1), survey(2, days_ago=2), survey(3, days_ago=3)])
    first, second, cap = evaluation.results
    # Each requirement gets its own allowance of one survey score: the cap is not a shared budget.
    assert (first.have, first.counted_ids, first.met) == (1, (1,), False)
    assert (second.have, second.counted_ids, second.met) == (1, (1,), True)
    assert first.reason == "Not met: 1 of 2 verified items; 2 survey-score items not counted (cap 1)."
    assert cap.met and cap.kind == "outcome_cap"


def test_outcome_cap_keeps_the_most_recent_survey_scores() -> None:
    evidence = [survey(1, days_ago=30), survey(2, days_ago=3), survey(3, days_ago=3), survey(4, days_ago=1)]
    result = run([req("min_evidence", count=1), req("outcome_cap", 2, max=2)], evidence).results[0]
    assert result.counted_ids == (4, 2)


def test_outcome_cap_zero_excludes_survey_scores() -> None:
    result = run([req("min_evidence", count=1), req("outcome_cap", 2, max=0)], [survey(1)]).results[0]
    assert not result.met
    assert "1 survey-score item not counted (cap 0)" in result.reason


def test_outcome_cap_of_n_counts_n_survey_scores() -> None:
    evidence = [survey(1), survey(2), survey(3)]
    result = run([req("min_evidence", count=3), req("outcome_cap", 2, max=3)], evidence).results[0]
    assert result.met and result.have == 3


def test_outcome_cap_does_not_limit_other_items() -> None:
    evidence = [fact(1), fact(2), survey(3), survey(4)]
    result = run([req("min_evidence", count=3), req("outcome_cap", 2, max=1)], evidence).results[0]
    assert result.counted_ids == (1, 2, 3)


def test_without_an_outcome_cap_survey_scores_count_fully() -> None:
    assert only(req("min_evidence", count=3), [survey(1), survey(2), survey(3)]).met


def test_outcome_cap_is_always_met_and_never_blocks_compliance() -> None:
    evaluation = run([req("outcome_cap", max=0)], [survey(1)])
    assert evaluation.compliant and evaluation.results[0].met and evaluation.unmet == ()


def test_smallest_outcome_cap_wins_when_several_apply() -> None:
    policy = [req("min_evidence", count=1), req("outcome_cap", 2, max=2), req("outcome_cap", 3, max=1)]
    evaluation = run(policy, [survey(1, days_ago=1), survey(2, days_ago=2)])
    assert evaluation.results[0].counted_ids == (1,)
    assert evaluation.results[1].reason == "Applied: superseded by a stricter cap of 1."


def test_outcome_cap_result_reports_how_many_survey_scores_were_left_out() -> None:
    policy = [req("min_evidence", count=1), req("customer_voice", 2, count=1), req("outcome_cap", 3, max=1)]
    evaluation = run(policy, [survey(1), survey(2), survey(3)])
    cap = evaluation.results[2]
    assert (cap.have, cap.need, cap.counted_ids) == (2, 1, ())
    assert cap.reason == (
        "Applied: at most 1 survey-score item counts toward each requirement; "
        "2 survey-score items were left out of at least one."
    )


def test_outcome_cap_result_says_when_nothing_was_left_out() -> None:
    cap = run([req("min_evidence", count=1), req("outcome_cap", 2, max=2)], [survey(1)]).results[1]
    assert cap.have == 0 and cap.reason.endswith("no item was left out.")


def test_outcome_cap_lets_survey_scores_fill_only_categories_nothing_else_covers() -> None:
    evidence = [
        survey(1, category="a", days_ago=1),
        fact(2, "a", days_ago=5),
        survey(3, category="b", days_ago=9),
    ]
    result = run([req("distinct_categories", count=2), req("outcome_cap", 2, max=1)], evidence).results[0]
    # The newer survey score in category a must not use up the allowance that category b needs.
    assert result.met and result.counted_ids == (2, 3)


def test_adding_a_newer_survey_score_never_costs_a_category() -> None:
    policy = [req("distinct_categories", count=2), req("outcome_cap", 2, max=1)]
    before = [fact(2, "a", days_ago=5), survey(3, category="b", days_ago=9)]
    after = [*before, survey(1, category="a", days_ago=1)]
    assert run(policy, before).results[0].met
    assert run(policy, after).results[0].met


def test_outcome_cap_limits_survey_only_categories_in_distinct_categories() -> None:
    evidence = [survey(1, category="a"), survey(2, category="b"), survey(3, category="c", days_ago=20)]
    result = run([req("distinct_categories", count=2), req("outcome_cap", 2, max=1)], evidence).results[0]
    assert (result.have, result.counted_ids, result.met) == (1, (1,), False)
    assert "2 survey-score items not counted (cap 1)" in result.reason


# --- attestation -------------------------------------------------------------------------------------


def test_attestation_met_when_the_role_has_attested() -> None:
    result = only(req("attestation", role="manager"), [], attestations=frozenset({"manager"}))
    assert (result.met, result.have, result.need, result.reason) == (
        True,
        1,
        1,
        "Met: attested by the manager.",
    )


def test_attestation_not_met_names_the_missing_role() -> None:
    result = only(req("attestation", role="hr"), [], attestations=frozenset({"manager"}))
    assert (result.met, result.reason) == (False, "Not met: needs an attestation by HR.")


# --- the evaluation as a whole -----------------------------------------------------------------------


def test_policy_without_requirements_is_compliant_with_score_one() -> None:
    evaluation = run([], [fact(1)])
    assert evaluation.compliant and evaluation.score == 1.0 and evaluation.results == ()


def test_compliant_only_when_every_requirement_is_met() -> None:
    policy = [req("min_evidence", 1, count=1), req("customer_voice", 2, count=1)]
    assert not run(policy, [fact(1)]).compliant
    assert run(policy, [fact(1), quote(2)]).compliant


def test_unmet_lists_the_requirements_not_met_in_policy_order() -> None:
    policy = [
        req("customer_voice", 7, count=1),
        req("min_evidence", 8, count=1),
        req("attestation", 9, role="hr"),
    ]
    assert [r.requirement_id for r in run(policy, [fact(1)]).unmet] == [7, 9]


def test_score_is_met_weight_over_total_weight_ignoring_the_cap() -> None:
    policy = [
        req("min_evidence", 1, count=1, weight=3),
        req("customer_voice", 2, count=1, weight=1),
        req("outcome_cap", 3, max=1, weight=5),
    ]
    assert run(policy, [fact(1)]).score == 0.75


def test_results_follow_policy_order_with_the_cap_in_place() -> None:
    policy = [
        req("customer_voice", 5, count=1),
        req("outcome_cap", 6, max=1),
        req("min_evidence", 7, count=1),
    ]
    assert [r.requirement_id for r in run(policy, []).results] == [5, 6, 7]


def test_result_carries_label_weight_and_kind() -> None:
    result = only(req("min_evidence", 4, count=1, label="One story", weight=2), [fact(1)])
    assert (result.requirement_id, result.kind, result.label, result.weight) == (
        4,
        "min_evidence",
        "One story",
        2,
    )


def test_label_defaults_to_a_description_with_category_names() -> None:
    policy = compile_policy(
        [req("min_evidence", count=2, categories=["customer_story"])],
        category_names={"customer_story": "Story"},
    )
    result = policy.evaluate(SubjectFacts(OWN_UNIT, [fact(1)]), AS_OF).results[0]
    assert result.label == "2 verified Story items"
    assert result.reason == "Not met: 1 of 2 verified Story items."


def test_evaluation_records_as_of() -> None:
    assert run([], [], as_of=date(2025, 1, 31)).as_of == date(2025, 1, 31)


def test_compiled_policy_evaluates_like_evaluate() -> None:
    policy = [req("min_evidence", 1, count=1, within_days=30), req("outcome_cap", 2, max=0)]
    facts = SubjectFacts(OWN_UNIT, [fact(1), survey(2)])
    compiled = compile_policy(policy)
    assert isinstance(compiled, CompiledPolicy) and compiled.cap == 0
    assert compiled.evaluate(facts, AS_OF) == evaluate(policy, facts, AS_OF)


def test_evaluate_many_matches_evaluate_for_each_subject() -> None:
    policy = [req("min_evidence", 1, count=2), req("internal_customer", 2, count=1)]
    subjects = [
        SubjectFacts(OWN_UNIT, [fact(1), fact(2)]),
        SubjectFacts(OWN_UNIT, [internal(3)]),
        SubjectFacts(OTHER_UNIT, [internal(4)]),
    ]
    assert evaluate_many(policy, subjects, AS_OF) == [evaluate(policy, s, AS_OF) for s in subjects]


def test_unknown_kind_is_rejected_when_compiling() -> None:
    with pytest.raises(ValueError, match="unknown requirement kind 'bogus'"):
        compile_policy([RequirementSpec(id=3, kind="bogus", params={})])


def test_a_window_reaching_before_year_one_does_not_overflow() -> None:
    result = only(req("min_evidence", count=1, within_days=36_500), [fact(1)], as_of=date(1, 6, 1))
    assert result.have == 0


def test_evidence_may_be_any_sequence_and_is_left_unchanged() -> None:
    evidence = [fact(2, days_ago=5), fact(1, days_ago=1)]
    evaluation = evaluate([req("min_evidence", count=1)], SubjectFacts(OWN_UNIT, tuple(evidence)), AS_OF)
    assert evaluation.results[0].counted_ids == (1, 2)
    assert run([req("min_evidence", count=1)], evidence).results[0].counted_ids == (1, 2)
    assert [f.id for f in evidence] == [2, 1]
