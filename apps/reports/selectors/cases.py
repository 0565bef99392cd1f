"""The case detail: one row per case with each requirement met or not, streamed in constant memory.

Decided cases show their frozen evaluation (as it stood at the decision); open cases their stored evaluation
(`CaseRequirementResult`, kept current by the services and the nightly sweep), read side by side with the cases.
Every row is read through server-side cursors: the export of 100k cases takes the same five queries as the export
of ten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Case as When_
from django.db.models import F, OuterRef, Subquery, Value, When
from django.db.models.fields.json import KT

from apps.cases.constants import CaseStatus, ExceptionStatus
from apps.cases.models import Case, CaseQuerySet, CaseRequirementResult, PolicyException
from apps.org.selectors import OrgTree
from apps.policies.engine.requirement_kinds import MODIFIER_KINDS
from apps.policies.models import Requirement
from apps.policies.selectors import category_names_get, requirement_label

from ..constants import MET, UNMET
from ..filters import ReportFilters
from .scope import case_scope
from .sql import FrozenResults, LocalDate, parse_frozen_results
from .streams import CaseRows, read_snapshot

BASE_COLUMNS = (
    "case id", "subject", "subject kind", "employee number", "unit", "unit code", "customer layer", "ritual",
    "cycle", "opened on", "status", "decided on", "compliant", "evaluated", "requirements met", "requirements total",
)  # fmt: skip
EXCEPTION_COLUMNS = ("exception", "exception justification")
# Columns that hold what people typed (names, codes, justifications); every other column holds numbers, dates or
# the product's own words, so the CSV renderer only has to neutralise these.
FREE_TEXT_COLUMNS = ("subject", "employee number", "unit", "unit code", "ritual", "cycle")
CASE_FIELDS = (
    "pk", "status", "compliant", "frozen_results", "frozen_as_of", "subject_employee_id", "subject_unit_id",
    "subject_employee__full_name", "subject_employee__employee_number", "subject_unit__name", "candidate_name",
    "policy_unit__name", "policy_unit__code", "policy_unit__customer_layer", "cycle__ritual_type__name", "cycle__name",
    "opened_on", "decided_on", "exception_status", "exception_justification",
)  # fmt: skip
# Distinct checklists remembered with their cells: a cycle's cases share a few policies and outcomes, so most rows
# reuse them. Forgotten past this many, so memory stays flat whatever the export.
CHECKLIST_MEMO_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class RequirementColumn:
    """A requirement that some case of the export is judged by: one column of met / not met."""

    requirement_id: int
    header: str


def requirement_columns(cases: CaseQuerySet) -> list[RequirementColumn]:
    """Every requirement pinned on the cases (baseline first, then group additions), modifiers aside: two queries."""
    requirements = (
        # A semi-join on the pinned versions: a join with DISTINCT would sort one row per case and requirement.
        Requirement.objects.filter(
            version_id__in=Case.pinned_versions.through.objects.filter(
                case_id__in=cases.order_by().values("pk")
            ).values("policyversion_id")
        )
        .exclude(kind__in=MODIFIER_KINDS)
        .select_related("version__policy__scope", "version__policy__ritual_type")
        .order_by(
            "version__policy__ritual_type__order",
            F("version__policy__scope__name").asc(nulls_first=True),  # the baseline (no scope) first
            "version__number",
            "order",
            "pk",
        )
    )
    names = category_names_get()
    columns: list[RequirementColumn] = []
    taken: set[str] = set()
    rows = list(requirements)
    rituals = {r.version.policy.ritual_type_id for r in rows}
    for requirement in rows:
        policy = requirement.version.policy
        where = policy.scope.name if policy.scope is not None else "baseline"
        if len(rituals) > 1:
            where = f"{policy.ritual_type.name} {where}"
        header = f"{requirement_label(requirement, names)} ({where})"
        if header in taken:
            header = f"{header} #{requirement.pk}"
        taken.add(header)
        columns.append(RequirementColumn(requirement.pk, header))
    return columns


def _with_exception(cases: CaseQuerySet) -> CaseQuerySet:
    """Annotate each case with its exception (the granted one, else the latest request), its frozen checklist as
    compact text and the local date of its decision (the current time zone's, as pages show it)."""
    latest = PolicyException.objects.filter(case_id=OuterRef("pk")).order_by(
        When_(When(status=ExceptionStatus.GRANTED, then=Value(0)), default=Value(1)), "-requested_at", "-pk"
    )
    return cases.annotate(
        exception_status=Subquery(latest.values("status")[:1]),
        exception_justification=Subquery(latest.values("justification")[:1]),
        frozen_results=FrozenResults(F("frozen_evaluation")),
        frozen_as_of=KT("frozen_evaluation__as_of"),
        decided_on=LocalDate("decided_at"),
    )


@dataclass(slots=True)
class CaseDetail:
    """The columns of the case detail and, once iterated, its rows (read the rows once)."""

    columns: list[str]
    requirement_columns: list[RequirementColumn]
    scope: CaseQuerySet
    today: dt.date

    @property
    def text_columns(self) -> list[int]:
        """Positions of the free-text columns (the justification is the last column)."""
        return [BASE_COLUMNS.index(name) for name in FREE_TEXT_COLUMNS] + [len(self.columns) - 1]

    def count(self) -> int:
        """How many rows the export has (one query)."""
        return self.scope.count()

    def rows(self) -> Iterator[list[Any]]:
        """Stream the rows: cases in ascending id, each open one with its stored results."""
        positions = {column.requirement_id: i for i, column in enumerate(self.requirement_columns)}
        width = len(positions)

        def checklist(pairs: Iterator[tuple[int, bool]]) -> tuple[tuple[str, ...], int, int]:
            """The requirement cells of a checklist, with how many requirements are met and judged."""
            cells = [""] * width
            met = total = 0
            for requirement_id, is_met in pairs:
                total += 1
                met += is_met
                position = positions.get(requirement_id)
                if position is not None:
                    cells[position] = MET if is_met else UNMET
            return tuple(cells), met, total

        memo: dict[Any, tuple[tuple[str, ...], int, int]] = {}
        statuses = dict(CaseStatus.choices)
        exception_labels = dict(ExceptionStatus.choices)
        with read_snapshot() as snapshot:
            cases = snapshot.rows(_with_exception(self.scope).order_by("pk").values_list(*CASE_FIELDS))
            stored = CaseRows(
                snapshot.rows(
                    CaseRequirementResult.objects.filter(
                        case_id__in=self.scope.filter(status=CaseStatus.OPEN).order_by().values("pk")
                    )
                    .order_by("case_id", "requirement_id")
                    .values_list("case_id", "requirement_id", "met", "as_of")
                )
            )
            for row in cases:
                (pk, status, stored_compliant, frozen_results, frozen_as_of, employee_id, subject_unit_id,
                 employee_name, employee_number, subject_unit_name, candidate_name, unit_name, unit_code, layer,
                 ritual, cycle, opened_on, decided_on, exception_status, justification) = row  # fmt: skip
                results: list[tuple[Any, ...]] | None = None
                if status == CaseStatus.OPEN:
                    results = stored.take(pk)
                    key: Any = tuple((requirement_id, met) for _, requirement_id, met, _ in results)
                    compliant: bool | None = all(met for _, met in key) if results else stored_compliant
                    evaluated = f"as of {results[0][3].isoformat()}" if results else "not yet"
                else:
                    key = frozen_results
                    compliant = stored_compliant
                    evaluated = f"at decision, {frozen_as_of}" if frozen_as_of else ""
                found = memo.get(key)
                if found is None:
                    if len(memo) >= CHECKLIST_MEMO_SIZE:
                        memo.clear()
                    pairs = iter(key) if results is not None else iter(parse_frozen_results(key))
                    found = memo[key] = checklist(pairs)
                cells, met, total = found
                if employee_id:
                    subject, kind_of_subject = employee_name, "employee"
                elif subject_unit_id:
                    subject, kind_of_subject = subject_unit_name, "org unit"
                else:
                    subject, kind_of_subject = candidate_name, "candidate"
                yield [
                    pk,
                    subject,
                    kind_of_subject,
                    employee_number or "",
                    unit_name,
                    unit_code,
                    layer,
                    ritual,
                    cycle,
                    opened_on,
                    statuses.get(status, status),
                    decided_on,
                    None if compliant is None else ("yes" if compliant else "no"),
                    evaluated,
                    met,
                    total,
                    *cells,
                    exception_labels.get(exception_status, "") if exception_status else "",
                    justification or "",
                ]


def case_detail(*, filters: ReportFilters, tree: OrgTree, today: dt.date) -> CaseDetail:
    """The case-detail export of the filtered cases: its columns now (two queries), its rows when iterated."""
    scope = case_scope(filters, tree)
    columns = requirement_columns(scope)
    return CaseDetail(
        columns=[*BASE_COLUMNS, *(column.header for column in columns), *EXCEPTION_COLUMNS],
        requirement_columns=columns,
        scope=scope,
        today=today,
    )
