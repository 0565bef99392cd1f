"""Live verdicts on open cases, one case at a time, from streams read side by side (a merge join).

`apps.cases.selectors.evaluate_refs` loads every fact of every case first: right for a page, too much memory for a
100k-case export. Here each input (pinned versions, the subject's verified evidence, linked evidence,
attestations) is one query ordered by case id and read through a server-side cursor while the cases are walked in
the same order, so a whole cycle costs seven queries and memory holds one case's facts at a time. Only verified
evidence is read: nothing else can meet a requirement (hints about pending items are for pages, not reports).

Reports show only met / not met, so each case gets the engine's verdict (`CompiledPolicy.verdict`: the same
decision as a full evaluation, without reasons or result objects), and its evidence arrives as `StreamFact` rows
shaped in SQL exactly as `apps.evidence.selectors.fact_from_row` shapes them in Python: no EvidenceFact is built per
item. `tests/reports/test_live.py` checks every verdict against the case's live checklist.

Reports no longer call it: they read the stored evaluations of open cases (`apps.cases.evaluations`). It stays as the
bounded-memory way to judge a whole cycle live (work that must not read stored results, such as a policy preview run
as a job), and its `StreamFact` rows feed the engine's verdict tests.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any, NamedTuple

from django.db.models import BooleanField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import NullIf

from apps.cases.constants import CaseStatus
from apps.cases.models import Attestation, Case, CaseEvidence, CaseQuerySet
from apps.cases.selectors import CaseRef, specs_for_versions
from apps.evidence.constants import EvidenceStatus
from apps.policies.engine import CompiledPolicy, RequirementSpec, compile_policy
from apps.policies.selectors import category_names_get

from .sql import AsFloat
from .streams import CaseRows, Snapshot

_NO_ROLES: frozenset[str] = frozenset()


class StreamFact(NamedTuple):
    """One verified evidence item of a case, as the engine reads a fact (an `apps.policies.engine.Fact`)."""

    case_id: int
    id: int
    category_code: str
    is_outcome: bool
    status: str
    impact_date: dt.date
    customer_type: str
    internal_customer_unit_id: int | None
    touchpoint_code: str | None
    quote: str
    source_type: str
    source_reference: str
    metric_kind: str | None
    baseline: float | None
    result: float | None
    direction: str | None
    insight_unit_id: int | None = None


_as_fact = partial(tuple.__new__, StreamFact)


def fact_columns(prefix: str) -> tuple[Any, ...]:
    """The evidence columns of a StreamFact (after the case id), reached through `prefix` ('evidence__'), computed
    by the database as `fact_from_row` computes them: a survey score by its category or its metric kind, empty
    metric kind and direction as None, decimals as floats (both round the decimal to the nearest float)."""
    outcome = Q(**{f"{prefix}category__is_outcome": True}) | Q(**{f"{prefix}metric_kind": "outcome"})
    return (
        F(f"{prefix}id"),
        F(f"{prefix}category__code"),
        ExpressionWrapper(outcome, output_field=BooleanField()),
        F(f"{prefix}status"),
        F(f"{prefix}impact_date"),
        F(f"{prefix}customer_type"),
        F(f"{prefix}internal_customer_unit_id"),
        F(f"{prefix}touchpoint__code"),
        F(f"{prefix}customer_quote"),
        F(f"{prefix}source_type"),
        F(f"{prefix}source_reference"),
        NullIf(F(f"{prefix}metric_kind"), Value("")),
        AsFloat(F(f"{prefix}baseline")),
        AsFloat(F(f"{prefix}result")),
        NullIf(F(f"{prefix}direction"), Value("")),
        F(f"{prefix}responds_to__unit_id"),
    )


class LiveVerdict(NamedTuple):
    """An open case's checklist as a report shows it: met or not per requirement (modifiers aside), at `as_of`."""

    as_of: dt.date
    requirement_ids: tuple[int, ...]
    met: tuple[bool, ...]

    @property
    def compliant(self) -> bool:
        return all(self.met)


class LiveEvaluator:
    """Judges the open cases of `scope` as of `today`; call `verdict` with cases in ascending id order. Its streams
    are read in `snapshot` (`read_snapshot()`), which ends them."""

    def __init__(self, scope: CaseQuerySet, *, today: dt.date, snapshot: Snapshot) -> None:
        self.today = today
        scope = scope.filter(status=CaseStatus.OPEN)
        open_ids = scope.order_by().values("pk")
        names = category_names_get()
        through = Case.pinned_versions.through
        versions = set(
            through.objects.filter(case_id__in=open_ids).values_list("policyversion_id", flat=True).distinct()
        )
        self.specs, self.baseline = specs_for_versions(versions, names)
        self.names = names
        self.compiled: dict[tuple[int, ...], CompiledPolicy] = {}
        self.by_versions: dict[tuple[int, ...], CompiledPolicy] = {}
        self.pinned = CaseRows(
            snapshot.rows(
                through.objects.filter(case_id__in=open_ids)
                .order_by("case_id")
                .values_list("case_id", "policyversion_id")
            )
        )
        self.own = CaseRows(
            snapshot.rows(
                scope.filter(
                    subject_employee__evidence__is_current=True,
                    subject_employee__evidence__status=EvidenceStatus.VERIFIED,
                )
                .order_by("pk")
                .values_list("pk", *fact_columns("subject_employee__evidence__"))
            )
        )
        self.linked = CaseRows(
            snapshot.rows(
                CaseEvidence.objects.filter(
                    case_id__in=open_ids, evidence__is_current=True, evidence__status=EvidenceStatus.VERIFIED
                )
                .order_by("case_id")
                .values_list("case_id", *fact_columns("evidence__"))
            )
        )
        self.attestations = CaseRows(
            snapshot.rows(
                Attestation.objects.filter(case_id__in=open_ids).order_by("case_id").values_list("case_id", "role")
            )
        )

    def _policy(self, version_ids: tuple[int, ...]) -> CompiledPolicy:
        """The compiled policy of a set of pinned versions: baseline first, then the groups' additions."""
        policy = self.by_versions.get(version_ids)
        if policy is None:
            ordered = sorted(version_ids, key=lambda v: (v not in self.baseline, v))
            specs: tuple[RequirementSpec, ...] = tuple(s for v in ordered for s in self.specs.get(v, []))
            key = tuple(spec.id for spec in specs)
            policy = self.compiled.get(key)
            if policy is None:
                policy = self.compiled[key] = compile_policy(specs, category_names=self.names)
            self.by_versions[version_ids] = policy
        return policy

    def verdict(self, ref: CaseRef) -> LiveVerdict:
        """The live verdict on one open case, as its checklist decides it (cases must come in ascending id order)."""
        pk = ref.pk
        policy = self._policy(tuple(sorted([row[1] for row in self.pinned.take(pk)])))
        facts = list(map(_as_fact, self.own.take(pk)))
        linked = self.linked.take(pk)
        if linked:
            seen = {fact.id for fact in facts}
            facts.extend(fact for fact in map(_as_fact, linked) if fact.id not in seen)
        roles = self.attestations.take(pk)
        attestations = frozenset([row[1] for row in roles]) if roles else _NO_ROLES
        as_of = min(self.today, ref.evidence_deadline)
        met = policy.verdict(facts, as_of, unit=ref.own_unit_id, attestations=attestations)
        return LiveVerdict(as_of, policy.checked_ids, met)
