"""The verdict-only path decides exactly as the full evaluation, for any facts and any policy (hypothesis)."""

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from apps.policies.engine import (
    EvidenceFact,
    RequirementSpec,
    SubjectFacts,
    compile_policy,
    evaluate,
)
from apps.reports.selectors.live import StreamFact
from tests.policies.test_engine_properties import (
    AS_OF,
    PROPERTY_SETTINGS,
    full_policies,
    policies,
    subjects,
)

# Evaluation dates around AS_OF, so that items generated on window edges fall just inside and just outside.
AS_OF_SHIFTS = st.sampled_from((0, 0, 0, -1, 1, -30, 365))


def as_row(fact: EvidenceFact) -> StreamFact:
    """The fact as the case-detail export streams it: a row shaped in SQL, with a leading case id."""
    return StreamFact(
        1, fact.id, fact.category_code, fact.is_outcome, fact.status, fact.impact_date, fact.customer_type,
        fact.internal_customer_unit_id, fact.touchpoint_code, fact.quote, fact.source_type, fact.source_reference,
        fact.metric_kind, fact.baseline, fact.result, fact.direction, fact.insight_unit_id,
    )  # fmt: skip


def full_verdict(policy: list[RequirementSpec], facts: SubjectFacts, shift: int) -> tuple[bool, ...]:
    evaluation = evaluate(policy, facts, AS_OF + timedelta(days=shift))
    return tuple(r.met for r in evaluation.results if r.kind != "outcome_cap")


def verdict(policy: list[RequirementSpec], facts: SubjectFacts, shift: int, rows: bool = False) -> tuple[bool, ...]:
    evidence = [as_row(f) for f in facts.evidence] if rows else facts.evidence
    return compile_policy(policy).verdict(
        evidence, AS_OF + timedelta(days=shift), unit=facts.subject_unit_id, attestations=facts.attestations
    )


@PROPERTY_SETTINGS
@given(policy=policies(), facts=subjects(), shift=AS_OF_SHIFTS)
def test_verdict_says_met_exactly_when_the_full_evaluation_does(
    policy: list[RequirementSpec], facts: SubjectFacts, shift: int
) -> None:
    assert verdict(policy, facts, shift) == full_verdict(policy, facts, shift)


@PROPERTY_SETTINGS
@given(policy=full_policies(), facts=subjects(), shift=AS_OF_SHIFTS)
def test_verdict_agrees_on_every_kind_with_caps(policy: list[RequirementSpec], facts: SubjectFacts, shift: int) -> None:
    assert verdict(policy, facts, shift) == full_verdict(policy, facts, shift)


@PROPERTY_SETTINGS
@given(policy=full_policies(), facts=subjects(), shift=AS_OF_SHIFTS)
def test_verdict_reads_rows_shaped_like_facts_as_it_reads_facts(
    policy: list[RequirementSpec], facts: SubjectFacts, shift: int
) -> None:
    assert verdict(policy, facts, shift, rows=True) == verdict(policy, facts, shift)


@PROPERTY_SETTINGS
@given(policy=policies(), facts=subjects())
def test_verdict_covers_the_non_modifier_requirements_in_policy_order(
    policy: list[RequirementSpec], facts: SubjectFacts
) -> None:
    compiled = compile_policy(policy)
    assert compiled.checked_ids == tuple(s.id for s in policy if s.kind != "outcome_cap")
    verdicts = compiled.verdict(facts.evidence, AS_OF, unit=facts.subject_unit_id, attestations=facts.attestations)
    assert len(verdicts) == len(compiled.checked_ids)


@PROPERTY_SETTINGS
@given(policy=full_policies(), batch=st.lists(st.tuples(subjects(), AS_OF_SHIFTS), max_size=6))
def test_one_compiled_policy_gives_each_date_its_own_windows(
    policy: list[RequirementSpec], batch: list[tuple[SubjectFacts, int]]
) -> None:
    # The compiled policy keeps the windows of the last date it was asked about: dates must not leak.
    compiled = compile_policy(policy)
    for facts, shift in batch:
        as_of = AS_OF + timedelta(days=shift)
        evaluation = compiled.evaluate(facts, as_of)
        assert evaluation == evaluate(policy, facts, as_of)
        got = compiled.verdict(facts.evidence, as_of, unit=facts.subject_unit_id, attestations=facts.attestations)
        assert got == full_verdict(policy, facts, shift)
