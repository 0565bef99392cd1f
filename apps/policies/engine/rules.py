"""Compiled requirements: each rule counts one subject's facts, with reasons (`evaluate`) or without (`verdict`).

`evaluate` gives the full result an employee reads (have, need, counted ids, a reason with hints). `verdict` says
only met or not, for reports that show nothing else: the same decision, without composing any text or result
object. Both read the same pickers, so they cannot disagree about which items count.
"""

from bisect import bisect_left
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, timedelta

from .facts import (
    _PENDING,
    VERIFIED,
    EvidenceFact,
    Fact,
    RequirementResult,
    RequirementSpec,
    SubjectFacts,
    _by_date,
    _oldest_first,
    counting_order,
)
from .requirement_kinds import (
    ROLE_LABELS,
    RequirementKind,
    describe,
    requirement_phrase,
)

# pick(items, unit) keeps, in input order, the items a rule accepts; windows are applied before, by slicing.
# Each rule is one list comprehension rather than a predicate called per item: a Python call per item per
# rule was the largest cost of bulk evaluation. The subject's unit is an argument so one compiled picker
# serves every subject.
# Pickers take any `Fact`: the verdict path feeds them rows that are not EvidenceFacts.
_Picker = Callable[[Sequence[Fact], "int | None"], list[Fact]]
_Explainer = Callable[[Sequence[Fact], "int | None"], list[str]]


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _fmt_pct(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _capped_note(capped: Sequence[int], cap: int | None) -> str:
    return f"{_plural(len(capped), 'survey-score item', 'survey-score items')} not counted (cap {cap})"


def verdict_window(asc: Sequence[Fact], lower: date) -> Sequence[Fact]:
    """The facts of `asc` (verified, dated up to `as_of`, oldest first) dated on or after `lower`."""
    cut = bisect_left(asc, lower, key=_by_date)
    return asc[cut:] if cut else asc


class _SubjectContext:
    """One subject's countable facts, sorted once and shared by every rule."""

    __slots__ = ("unit", "attestations", "evidence", "as_of", "asc", "capped", "_others")

    def __init__(self, facts: SubjectFacts, as_of: date) -> None:
        self.unit = facts.subject_unit_id
        self.attestations = facts.attestations
        self.evidence = evidence = facts.evidence
        self.as_of = as_of
        # Unverified and future-dated items never count for any kind, so they are dropped once, here.
        self.asc = _oldest_first([f for f in evidence if f.status == VERIFIED and f.impact_date <= as_of])
        self.capped: set[int] = set()
        self._others: list[EvidenceFact] | None = None

    def cut(self, lower: date) -> int:
        """Index in `asc` of the first fact dated on or after `lower`."""
        return bisect_left(self.asc, lower, key=_by_date)

    def hints(self, rule: "_CountRule", lower: date, cut: int) -> list[str]:
        """Say how many matching items are still in review, too old, or dated after `as_of`."""
        as_of, unit = self.as_of, self.unit
        others = self._others
        if others is None:
            # Rejected items are final, so only in-review or future-dated verified items earn a hint.
            in_review = [f for f in self.evidence if f.status in _PENDING]
            late = [f for f in self.evidence if f.impact_date > as_of and f.status == VERIFIED]
            others = self._others = in_review + late
        pending = future = 0
        for f in rule.pick(others, unit):
            if f.impact_date > as_of:
                future += 1
            elif f.impact_date >= lower:
                pending += 1
        old = len(rule.pick(self.asc[:cut], unit)) if cut else 0
        notes = []
        if pending:
            notes.append(f"{_plural(pending, 'matching item', 'matching items')} not yet verified")
        if old:
            what = _plural(old, "matching item is", "matching items are")
            notes.append(f"{what} older than the {rule.window}-day window")
        if future:
            notes.append(f"{_plural(future, 'matching item is', 'matching items are')} dated after {as_of}")
        return notes


class _Rule:
    """A compiled requirement: everything that does not depend on the subject is worked out once."""

    __slots__ = ("spec", "kind", "label", "need", "window", "phrase_need", "phrase_many", "exact_reason")

    def __init__(
        self, spec: RequirementSpec, kind: RequirementKind, need: int, names: Mapping[str, str] | None
    ) -> None:
        self.spec = spec
        self.kind = kind
        self.label = spec.label or describe(kind, spec.params, category_names=names)
        self.need = need
        self.window: int | None = spec.params.get("within_days")
        self.phrase_need = requirement_phrase(kind, spec.params, plural=need != 1, category_names=names)
        self.phrase_many = requirement_phrase(kind, spec.params, plural=True, category_names=names)
        self.exact_reason = f"Met: {need} of {need} {self.phrase_need}."

    def lower_bound(self, as_of: date) -> date:
        """First impact date inside the window (both edges count); date.min when there is no window."""
        if self.window is None:
            return date.min
        try:
            return as_of - timedelta(days=self.window)
        except OverflowError:
            return date.min

    def met_reason(self, have: int) -> str:
        if have == self.need:
            return self.exact_reason
        return f"Met: {have} {self.phrase_many} ({self.need} needed)."

    def result(self, met: bool, have: int, counted: tuple[int, ...], reason: str) -> RequirementResult:
        s = self.spec
        return RequirementResult(s.id, self.kind, self.label, met, have, self.need, counted, reason, s.weight)

    def evaluate(self, ctx: _SubjectContext, lower: date, cap: int | None) -> RequirementResult:
        """Return the result for one subject, noting in `ctx.capped` the survey-score items left out."""
        raise NotImplementedError

    def verdict(
        self, asc: Sequence[Fact], lower: date, unit: int | None, attestations: Collection[str], cap: int | None
    ) -> bool:
        """Met or not, exactly as `evaluate` decides it, from the subject's verified facts dated up to `as_of`
        sorted by impact date (`asc`), with no reason, hint or result object built."""
        raise NotImplementedError


class _CountRule(_Rule):
    """Counts verified items in the window that the picker accepts, survey-score items capped."""

    __slots__ = ("pick", "explain")

    def __init__(
        self,
        spec: RequirementSpec,
        kind: RequirementKind,
        pick: _Picker,
        explain: _Explainer | None,
        names: Mapping[str, str] | None,
    ) -> None:
        super().__init__(spec, kind, int(spec.params["count"]), names)
        self.pick = pick
        self.explain = explain

    def evaluate(self, ctx: _SubjectContext, lower: date, cap: int | None) -> RequirementResult:
        """Return the result for one subject, noting in `ctx.capped` the survey-score items left out."""
        cut = ctx.cut(lower)
        window = ctx.asc[cut:] if cut else ctx.asc
        picked = self.pick(window, ctx.unit)
        picked.reverse()  # into counting order, newest first; pickers always return a new list
        capped: list[int] = []
        if cap is not None and picked:
            outcome = [f for f in picked if f.is_outcome]
            if len(outcome) > cap:
                # The newest `cap` survey-score items are kept; the cap never touches other items.
                dropped = outcome[cap:]
                capped = [f.id for f in dropped]
                ctx.capped.update(capped)
                gone = set(map(id, dropped))
                picked = [f for f in picked if id(f) not in gone]
        have = len(picked)
        counted = tuple([f.id for f in picked])
        if have >= self.need:
            return self.result(True, have, counted, self.met_reason(have))
        notes = [f"Not met: {have} of {self.need} {self.phrase_need}"]
        if capped:
            notes.append(_capped_note(capped, cap))
        if self.explain is not None:
            notes.extend(self.explain(window, ctx.unit))
        notes.extend(ctx.hints(self, lower, cut))
        return self.result(False, have, counted, "; ".join(notes) + ".")

    def verdict(
        self, asc: Sequence[Fact], lower: date, unit: int | None, attestations: Collection[str], cap: int | None
    ) -> bool:
        """Met or not, without a reason: the cap leaves out only the survey-score items beyond `cap`."""
        picked = self.pick(verdict_window(asc, lower), unit)
        have = len(picked)
        if have < self.need:
            return False
        if cap is None:
            return True
        outcome = len([f for f in picked if f.is_outcome])
        return have - max(0, outcome - cap) >= self.need


class _DistinctCategoriesRule(_Rule):
    """Counts the categories spanned by verified items in the window."""

    __slots__ = ("names",)

    def __init__(self, spec: RequirementSpec, kind: RequirementKind, names: Mapping[str, str] | None) -> None:
        super().__init__(spec, kind, int(spec.params["count"]), names)
        self.names: Mapping[str, str] = names or {}

    def evaluate(self, ctx: _SubjectContext, lower: date, cap: int | None) -> RequirementResult:
        """Return the result for one subject, noting in `ctx.capped` the survey-score items left out."""
        cut = ctx.cut(lower)
        window = ctx.asc[cut:] if cut else ctx.asc
        capped: list[int] = []
        if cap is None:
            # Oldest first, so the last write per category leaves its most recent item as representative.
            reps = list({f.category_code: f for f in window}.values())
        else:
            plain = {f.category_code: f for f in window if not f.is_outcome}
            outcome = {f.category_code: f for f in window if f.is_outcome and f.category_code not in plain}
            # Survey-score items only fill categories nothing else covers: spending the cap on a covered
            # category would let a new item push out an older one's category and lower the count.
            extra = counting_order(outcome.values())
            capped = [f.id for f in extra[cap:]]
            ctx.capped.update(capped)
            reps = [*plain.values(), *extra[:cap]]
        reps = counting_order(reps)
        have = len(reps)
        counted = tuple([f.id for f in reps])
        if have >= self.need:
            return self.result(True, have, counted, self.met_reason(have))
        notes = [f"Not met: {have} of {self.need} {self.phrase_need}"]
        if reps:
            covered = sorted(self.names.get(f.category_code, f.category_code) for f in reps)
            notes.append(f"covered: {', '.join(covered)}")
        if capped:
            notes.append(_capped_note(capped, cap))
        return self.result(False, have, counted, "; ".join(notes) + ".")

    def verdict(
        self, asc: Sequence[Fact], lower: date, unit: int | None, attestations: Collection[str], cap: int | None
    ) -> bool:
        """Met or not, without a reason: survey scores fill at most `cap` categories nothing else covers."""
        window = verdict_window(asc, lower)
        if cap is None:
            return len({f.category_code for f in window}) >= self.need
        plain = {f.category_code for f in window if not f.is_outcome}
        if len(plain) >= self.need:
            return True
        survey_only = {f.category_code for f in window if f.is_outcome} - plain
        return len(plain) + min(len(survey_only), cap) >= self.need


class _AttestationRule(_Rule):
    """Met when the case carries an attestation by one role."""

    __slots__ = ("role", "met", "unmet")

    def __init__(self, spec: RequirementSpec, kind: RequirementKind, names: Mapping[str, str] | None) -> None:
        super().__init__(spec, kind, 1, names)
        self.role: str = spec.params["role"]
        who = ROLE_LABELS.get(self.role, self.role)
        # Results are immutable and there are only two, so every subject shares them.
        self.met = self.result(True, 1, (), f"Met: attested by {who}.")
        self.unmet = self.result(False, 0, (), f"Not met: needs an attestation by {who}.")

    def evaluate(self, ctx: _SubjectContext, lower: date, cap: int | None) -> RequirementResult:
        """Return the result for one subject (attestations are never capped)."""
        return self.met if self.role in ctx.attestations else self.unmet

    def verdict(
        self, asc: Sequence[Fact], lower: date, unit: int | None, attestations: Collection[str], cap: int | None
    ) -> bool:
        """Met when the role attested."""
        return self.role in attestations


class _CapRule:
    """An outcome_cap requirement: always met; its result reports what the effective cap left out."""

    __slots__ = ("spec", "own", "label", "rule_text", "superseded", "fixed")

    def __init__(self, spec: RequirementSpec, effective: int) -> None:
        self.spec = spec
        self.own = int(spec.params["max"])
        self.label = spec.label or describe(RequirementKind.OUTCOME_CAP, spec.params)
        items = _plural(self.own, "survey-score item counts", "survey-score items count")
        self.rule_text = f"at most {items} toward each requirement"
        self.superseded = self.own > effective
        # A superseded cap, or a subject with nothing left out, gets one immutable result shared by all.
        if self.superseded:
            self.fixed = self.result(0, f"Applied: superseded by a stricter cap of {effective}.")
        else:
            self.fixed = self.result(0, f"Applied: {self.rule_text}; no item was left out.")

    def result(self, have: int, reason: str) -> RequirementResult:
        s = self.spec
        kind = RequirementKind.OUTCOME_CAP
        return RequirementResult(s.id, kind, self.label, True, have, self.own, (), reason, s.weight)

    def evaluate(self, capped: set[int]) -> RequirementResult:
        """Return the result given the ids of survey scores left out of at least one requirement."""
        if self.superseded or not capped:
            return self.fixed
        left_out = _plural(len(capped), "survey-score item was", "survey-score items were")
        reason = f"Applied: {self.rule_text}; {left_out} left out of at least one."
        return self.result(len(capped), reason)
