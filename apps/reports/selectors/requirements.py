"""Requirements reports: what groups add to the baseline (inventory), and which requirements block most cases."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q

from apps.cases.constants import CaseStatus
from apps.cases.models import Case, CaseRequirementResult
from apps.org.selectors import OrgTree
from apps.policies.engine.requirement_kinds import MODIFIER_KINDS
from apps.policies.models import Requirement
from apps.policies.selectors import InventoryRow, category_names_get, group_additions_inventory, requirement_label

from ..filters import ReportFilters
from .scope import case_scope, subtree_ids
from .sql import json_elements, json_true, run, subquery_sql
from .stats import rate

JUDGED_AT_DECISION = (CaseStatus.APPROVED, CaseStatus.APPROVED_WITH_EXCEPTION, CaseStatus.REJECTED)

__all__ = ["InventoryRow", "UnmetRow", "requirements_inventory", "unmet_requirements"]


def requirements_inventory(*, filters: ReportFilters, tree: OrgTree, today: dt.date) -> list[InventoryRow]:
    """What each group added on top of the baseline, in force at the end of the dates (or today), with how many
    groups chose the same and whether the baseline has it: `apps.policies.selectors.group_additions_inventory`
    (four queries), limited to the ritual and the subtree."""
    rows = group_additions_inventory(as_of=filters.date_to or today, ritual_type_id=filters.ritual_type_id)
    units = subtree_ids(filters, tree)
    if units is None:
        return rows
    inside = set(units)
    return [row for row in rows if row.org_unit_id in inside]


@dataclass(slots=True)
class UnmetRow:
    """One requirement and the cases it blocks: open cases short of it at their stored evaluation, decided cases
    short of it at their decision."""

    requirement_id: int
    label: str
    kind: str
    ritual: str
    policy: str  # "Baseline" or the group (org unit) that added it
    version: int
    open_blocked: int = 0
    open_judged: int = 0
    rejected_unmet: int = 0  # rejected cases that did not meet it
    waived: int = 0  # approved with an exception, so the exception waived it
    decided_judged: int = 0

    @property
    def blocked(self) -> int:
        """Cases short of this requirement: open now, or at their decision (rejected or approved by exception)."""
        return self.open_blocked + self.rejected_unmet + self.waived

    @property
    def judged(self) -> int:
        return self.open_judged + self.decided_judged

    @property
    def blocked_share(self) -> float | None:
        return rate(self.blocked, self.judged)


def unmet_requirements(*, filters: ReportFilters, tree: OrgTree, today: dt.date) -> list[UnmetRow]:
    """Requirements ranked by the cases they block (withdrawn cases aside): four queries whatever the cases.

    Decided cases: their frozen evaluation, read by one JSON aggregate query. Open cases: their stored evaluation
    (`CaseRequirementResult`, kept current by the services and the nightly sweep), counted by one GROUP BY; no
    engine run. `today` is unused since then and kept for the callers' uniform signature.
    """
    scope = case_scope(filters, tree)
    counts: dict[int, Counter[str]] = {}

    decided_sql, params = subquery_sql(scope.filter(status__in=JUDGED_AT_DECISION))
    elements, key = json_elements("c.frozen_evaluation", "results")
    table = Case._meta.db_table
    sql = (
        f"SELECT {key.format(key='requirement_id')}, c.status, {key.format(key='met')}, COUNT(*) "  # noqa: S608
        f"FROM {table} c {elements} WHERE c.id IN ({decided_sql}) GROUP BY 1, 2, 3"
    )
    for requirement_id, status, met, n in run(sql, params):
        counter = counts.setdefault(int(requirement_id), Counter())
        counter["decided_judged"] += n
        if not json_true(met):
            counter["waived" if status == CaseStatus.APPROVED_WITH_EXCEPTION else "rejected_unmet"] += n

    stored = (
        CaseRequirementResult.objects.filter(case_id__in=scope.filter(status=CaseStatus.OPEN).order_by().values("pk"))
        .values("requirement_id")
        .annotate(judged=Count("pk"), blocked=Count("pk", filter=Q(met=False)))
        .order_by()
        .values_list("requirement_id", "judged", "blocked")
    )
    for requirement_id, judged, blocked in stored:
        counter = counts.setdefault(requirement_id, Counter())
        counter["open_judged"] += judged
        counter["open_blocked"] += blocked

    requirements = Requirement.objects.filter(pk__in=list(counts)).select_related(
        "version__policy__ritual_type", "version__policy__scope"
    )
    names = category_names_get() if counts else {}
    rows: list[UnmetRow] = []
    for requirement in requirements:
        if requirement.kind in MODIFIER_KINDS:
            continue
        policy = requirement.version.policy
        rows.append(
            UnmetRow(
                requirement_id=requirement.pk,
                label=requirement_label(requirement, names),
                kind=requirement.kind,
                ritual=policy.ritual_type.name,
                policy=policy.scope.name if policy.scope is not None else "Baseline",
                version=requirement.version.number,
                **counts[requirement.pk],
            )
        )
    rows.sort(key=lambda row: (-row.blocked, -row.judged, row.label, row.requirement_id))
    return rows
