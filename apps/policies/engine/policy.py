"""A policy compiled once and evaluated against many subjects: full evaluations, or verdicts only."""

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date

from .facts import VERIFIED, Evaluation, Fact, RequirementSpec, SubjectFacts, _by_date
from .kinds import _compile_rule
from .rules import _CapRule, _Rule, _SubjectContext


class CompiledPolicy:
    """A policy compiled once (pickers, labels, phrases) and evaluated against many subjects."""

    __slots__ = ("requirements", "cap", "checked_ids", "_rules", "_caps", "_lowers_at")

    def __init__(
        self, requirements: Sequence[RequirementSpec], *, category_names: Mapping[str, str] | None = None
    ) -> None:
        self.requirements: tuple[RequirementSpec, ...] = tuple(requirements)
        compiled = [_compile_rule(spec, category_names) for spec in self.requirements]
        self._rules: list[_Rule] = [rule for rule in compiled if rule is not None]
        pairs = zip(self.requirements, compiled, strict=True)
        caps = [(i, spec) for i, (spec, rule) in enumerate(pairs) if rule is None]
        # Several caps (baseline plus group policies) must not weaken each other: the smallest wins.
        self.cap: int | None = min((int(spec.params["max"]) for _, spec in caps), default=None)
        self._caps = [(i, _CapRule(spec, self.cap or 0)) for i, spec in caps]
        # The requirements a verdict covers: every one but the modifiers, in policy order.
        self.checked_ids: tuple[int, ...] = tuple(rule.spec.id for rule in self._rules)
        self._lowers_at: tuple[date, list[tuple[_Rule, date]]] | None = None

    def _lowers(self, as_of: date) -> list[tuple[_Rule, date]]:
        """Each rule with the first day of its window at `as_of` (kept for the last date asked: callers evaluate
        a whole cycle at one date)."""
        cached = self._lowers_at
        if cached is not None and cached[0] == as_of:
            return cached[1]
        lowers = [(rule, rule.lower_bound(as_of)) for rule in self._rules]
        self._lowers_at = (as_of, lowers)
        return lowers

    def evaluate(self, facts: SubjectFacts, as_of: date) -> Evaluation:
        """Evaluate one subject at `as_of`."""
        return self._evaluate(facts, as_of, self._lowers(as_of))

    def evaluate_many(self, subjects: Iterable[SubjectFacts], as_of: date) -> list[Evaluation]:
        """Evaluate many subjects at the same `as_of`, sharing the per-date work."""
        lowers = self._lowers(as_of)
        evaluate = self._evaluate
        return [evaluate(facts, as_of, lowers) for facts in subjects]

    def _evaluate(self, facts: SubjectFacts, as_of: date, lowers: list[tuple[_Rule, date]]) -> Evaluation:
        ctx = _SubjectContext(facts, as_of)
        cap = self.cap
        results = [rule.evaluate(ctx, lower, cap) for rule, lower in lowers]
        compliant = all(r.met for r in results)
        for i, cap_rule in self._caps:
            results.insert(i, cap_rule.evaluate(ctx.capped))
        return Evaluation(as_of, tuple(results), compliant)

    def verdict(
        self, evidence: Iterable[Fact], as_of: date, *, unit: int | None, attestations: Collection[str]
    ) -> tuple[bool, ...]:
        """Met or not for each requirement of `checked_ids`, exactly as `evaluate` decides at `as_of`, without
        composing reasons, counted ids or results: for reports that show only met / not met.

        `evidence` may hold any `Fact` (rows with EvidenceFact's attributes); `unit` is the subject's unit and
        `attestations` the roles that attested, as in `SubjectFacts`.
        """
        # Ties between dates do not matter to a count, so one sort on the date is enough (evaluate sorts twice).
        asc = [f for f in evidence if f.status == VERIFIED and f.impact_date <= as_of]
        if len(asc) > 1:
            asc.sort(key=_by_date)
        cap = self.cap
        return tuple([rule.verdict(asc, lower, unit, attestations, cap) for rule, lower in self._lowers(as_of)])


def compile_policy(
    requirements: Sequence[RequirementSpec], *, category_names: Mapping[str, str] | None = None
) -> CompiledPolicy:
    """Compile a policy's requirements once for evaluating many subjects."""
    return CompiledPolicy(requirements, category_names=category_names)


def evaluate(
    requirements: Sequence[RequirementSpec],
    facts: SubjectFacts,
    as_of: date,
    *,
    category_names: Mapping[str, str] | None = None,
) -> Evaluation:
    """Evaluate one subject's facts against a policy's requirements at `as_of`."""
    return compile_policy(requirements, category_names=category_names).evaluate(facts, as_of)


def evaluate_many(
    requirements: Sequence[RequirementSpec],
    subjects: Iterable[SubjectFacts],
    as_of: date,
    *,
    category_names: Mapping[str, str] | None = None,
) -> list[Evaluation]:
    """Evaluate many subjects against one policy at `as_of`, compiling the policy once."""
    return compile_policy(requirements, category_names=category_names).evaluate_many(subjects, as_of)
