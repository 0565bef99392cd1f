"""The engine's inputs and outputs: evidence facts, requirement specs, results and evaluations.

Also the ordering and metric helpers every rule shares. Pure Python, no ORM, no clock.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any, Final, NamedTuple, Protocol

from .requirement_kinds import MODIFIER_KINDS

VERIFIED: Final[str] = "verified"
# Statuses that may still become verified; rejected items are final and never mentioned in hints.
_PENDING: Final[frozenset[str]] = frozenset({"draft", "submitted", "changes_requested"})


@dataclass(frozen=True, slots=True)
class EvidenceFact:
    """One evidence item as the engine sees it: what was done for which customer, when, and its status."""

    id: int
    category_code: str
    is_outcome: bool
    status: str
    impact_date: date
    customer_type: str = "external"
    internal_customer_unit_id: int | None = None
    touchpoint_code: str | None = None
    quote: str = ""
    source_type: str = ""
    source_reference: str = ""
    metric_kind: str | None = None
    baseline: float | None = None
    result: float | None = None
    direction: str | None = None
    # The unit whose inbox held the customer insight this item responds to (None: not a response).
    insight_unit_id: int | None = None


@dataclass(frozen=True, slots=True)
class RequirementSpec:
    """One requirement of a policy, with params already cleaned by `validate_params`."""

    id: int
    kind: str
    params: dict[str, Any]
    label: str = ""
    weight: int = 1


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    """Everything the engine needs about one case subject."""

    subject_unit_id: int | None
    evidence: Sequence[EvidenceFact]
    attestations: frozenset[str] = field(default_factory=frozenset)


class RequirementResult(NamedTuple):
    """The outcome of one requirement: met or not, how much counted, which items, and why in one line."""

    # A named tuple rather than a frozen dataclass: as immutable (rules share some results between subjects), but
    # built in one step, where a frozen dataclass sets each field through object.__setattr__; bulk evaluation
    # builds one per requirement per subject.

    requirement_id: int
    kind: str
    label: str
    met: bool
    have: int
    need: int
    counted_ids: tuple[int, ...]
    reason: str
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A policy's verdict for one subject at `as_of`."""

    as_of: date
    results: tuple[RequirementResult, ...]
    compliant: bool

    @property
    def unmet(self) -> tuple[RequirementResult, ...]:
        """Requirements that are not met, in policy order."""
        return tuple(r for r in self.results if not r.met)

    @property
    def score(self) -> float:
        """Met weight over total weight of the non-modifier requirements; 1.0 when there are none."""
        total = met = 0
        for r in self.results:
            if r.kind in MODIFIER_KINDS:
                continue
            total += r.weight
            if r.met:
                met += r.weight
        if total == 0:
            return 1.0 if self.compliant else 0.0
        return met / total


class Fact(Protocol):
    """What the verdict path reads of an evidence item: an `EvidenceFact`, or any row with the same attributes
    (the case-detail export streams named tuples shaped in SQL rather than building an EvidenceFact per item)."""

    @property
    def id(self) -> int: ...
    @property
    def category_code(self) -> str: ...
    @property
    def is_outcome(self) -> bool: ...
    @property
    def status(self) -> str: ...
    @property
    def impact_date(self) -> date: ...
    @property
    def customer_type(self) -> str: ...
    @property
    def internal_customer_unit_id(self) -> int | None: ...
    @property
    def touchpoint_code(self) -> str | None: ...
    @property
    def quote(self) -> str: ...
    @property
    def source_type(self) -> str: ...
    @property
    def source_reference(self) -> str: ...
    @property
    def metric_kind(self) -> str | None: ...
    @property
    def baseline(self) -> float | None: ...
    @property
    def result(self) -> float | None: ...
    @property
    def direction(self) -> str | None: ...
    @property
    def insight_unit_id(self) -> int | None: ...


_by_id = attrgetter("id")
_by_date = attrgetter("impact_date")


def counting_order(evidence: Iterable[EvidenceFact]) -> list[EvidenceFact]:
    """Return facts in the order they are counted: most recent impact date first, ties by ascending id."""
    # Two C-level stable sorts are cheaper than one sort on a Python-built tuple key.
    items = sorted(evidence, key=_by_id)
    items.sort(key=_by_date, reverse=True)
    return items


def _oldest_first(evidence: Iterable[EvidenceFact]) -> list[EvidenceFact]:
    """The exact reverse of counting_order, so that every window is a suffix found by bisection."""
    items = sorted(evidence, key=_by_id, reverse=True)
    items.sort(key=_by_date)
    return items


def _good_change(fact: Fact) -> float | None:
    """Change of an operational metric in its good direction (positive = better), or None if unusable."""
    if fact.metric_kind != "operational" or fact.baseline is None or fact.result is None:
        return None
    if fact.direction == "increase":
        return fact.result - fact.baseline
    if fact.direction == "decrease":
        return fact.baseline - fact.result
    return None


def _pct_of(change: float, baseline: float) -> float:
    if baseline == 0:
        # No relative change exists from zero: any strict improvement clears every threshold.
        return math.inf if change > 0 else 0.0
    return change / abs(baseline) * 100


def improvement_pct(fact: Fact) -> float | None:
    """Return an operational metric's improvement in its good direction, in percent of the baseline."""
    change = _good_change(fact)
    if change is None or fact.baseline is None:
        return None
    return _pct_of(change, fact.baseline)


def _improves(fact: Fact, min_pct: float) -> bool:
    change = _good_change(fact)
    # Strictness is judged on the raw change: on a huge baseline a tiny gain can round to 0%.
    return change is not None and change > 0 and _pct_of(change, fact.baseline or 0.0) >= min_pct
