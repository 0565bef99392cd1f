"""Live evaluation of open cases, one case at a time, from streams read side by side (a merge join).

`apps.cases.selectors.evaluate_refs` loads every fact of every case first: right for a page, too much memory for a
100k-case export. Here each input (pinned versions, the subject's verified evidence, linked evidence,
attestations) is one query ordered by case id and read through a server-side cursor while the cases are walked in
the same order, so a whole cycle costs seven queries and memory holds one case's facts at a time. Only verified
evidence is read: nothing else can meet a requirement (hints about pending items are for pages, not reports).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from apps.cases.constants import CaseStatus
from apps.cases.models import Attestation, Case, CaseEvidence, CaseQuerySet
from apps.cases.selectors import CaseRef, specs_for_versions
from apps.evidence.constants import EvidenceStatus
from apps.evidence.selectors import FACT_FIELDS, fact_from_row
from apps.policies.engine import CompiledPolicy, Evaluation, EvidenceFact, RequirementSpec, SubjectFacts, compile_policy
from apps.policies.selectors import category_names_get

from ..constants import STREAM_CHUNK_SIZE


@contextmanager
def read_snapshot() -> Iterator[None]:
    """Read every stream from one snapshot.

    On PostgreSQL: a REPEATABLE READ, READ ONLY transaction, so the side-by-side queries agree with each other and
    server-side cursors need no WITH HOLD copy. Inside a caller's transaction (tests) that transaction is used.
    SQLite needs nothing (and a transaction there would take the write lock): the merge skips rows of cases it
    does not see, so a change between two statements cannot derail it.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


_NO_ROLES: frozenset[str] = frozenset()


class _Stream:
    """Rows `(case_id, ...)` in ascending case id, handed out one case at a time."""

    __slots__ = ("_rows", "_next")

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self._rows = rows
        self._next: tuple[Any, ...] | None = next(rows, None)

    def take(self, case_id: int) -> list[tuple[Any, ...]]:
        """The rows of `case_id`; rows of cases before it (cases the walk skipped) are dropped."""
        found: list[tuple[Any, ...]] = []
        row = self._next
        while row is not None and row[0] <= case_id:
            if row[0] == case_id:
                found.append(row)
            row = next(self._rows, None)
        self._next = row
        return found


def _stream(queryset: Any) -> _Stream:
    return _Stream(queryset.iterator(chunk_size=STREAM_CHUNK_SIZE))


class LiveEvaluator:
    """Evaluates the open cases of `scope` as of `today`; call `evaluate` with cases in ascending id order."""

    def __init__(self, scope: CaseQuerySet, *, today: dt.date) -> None:
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
        self.pinned = _stream(
            through.objects.filter(case_id__in=open_ids).order_by("case_id").values_list("case_id", "policyversion_id")
        )
        own_fields = tuple(f"subject_employee__evidence__{name}" for name in FACT_FIELDS)
        self.own = _stream(
            scope.filter(
                subject_employee__evidence__is_current=True,
                subject_employee__evidence__status=EvidenceStatus.VERIFIED,
            )
            .order_by("pk")
            .values_list("pk", *own_fields)
        )
        linked_fields = tuple(f"evidence__{name}" for name in FACT_FIELDS)
        self.linked = _stream(
            CaseEvidence.objects.filter(
                case_id__in=open_ids, evidence__is_current=True, evidence__status=EvidenceStatus.VERIFIED
            )
            .order_by("case_id")
            .values_list("case_id", *linked_fields)
        )
        self.attestations = _stream(
            Attestation.objects.filter(case_id__in=open_ids).order_by("case_id").values_list("case_id", "role")
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

    def evaluate(self, ref: CaseRef) -> Evaluation:
        """The live evaluation of one open case (cases must come in ascending id order)."""
        policy = self._policy(tuple(sorted(row[1] for row in self.pinned.take(ref.pk))))
        facts: list[EvidenceFact] = [fact_from_row(row[1:]) for row in self.own.take(ref.pk)]
        linked = self.linked.take(ref.pk)
        if linked:
            seen = {fact.id for fact in facts}
            facts.extend(fact for fact in (fact_from_row(row[1:]) for row in linked) if fact.id not in seen)
        roles = self.attestations.take(ref.pk)
        attestations = frozenset(row[1] for row in roles) if roles else _NO_ROLES
        subject = SubjectFacts(subject_unit_id=ref.own_unit_id, evidence=facts, attestations=attestations)
        return policy.evaluate(subject, min(self.today, ref.evidence_deadline))
