"""The cases and evidence a report covers, as querysets built from the filters (no query runs here)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from apps.cases.constants import CaseStatus
from apps.cases.models import Case, CaseEvidence, CaseQuerySet
from apps.evidence.models import Evidence, EvidenceQuerySet
from apps.org.selectors import OrgTree

from ..filters import ReportFilters


def subtree_ids(filters: ReportFilters, tree: OrgTree) -> list[int] | None:
    """The ids of the filtered unit and every unit under it, or None for the whole organisation."""
    if filters.unit_id is None:
        return None
    return tree.descendants(filters.unit_id)


def case_scope(filters: ReportFilters, tree: OrgTree) -> CaseQuerySet:
    """Cases of the filtered cycle(s) / ritual, whose policy unit is in the subtree, opened within the dates."""
    cases = Case.objects.all()
    if filters.cycle_id is not None:
        cases = cases.filter(cycle_id=filters.cycle_id)
    if filters.cycle_ids:
        cases = cases.filter(cycle_id__in=filters.cycle_ids)
    if filters.ritual_type_id is not None:
        cases = cases.filter(cycle__ritual_type_id=filters.ritual_type_id)
    units = subtree_ids(filters, tree)
    if units is not None:
        cases = cases.filter(policy_unit_id__in=units)
    if filters.date_from is not None:
        cases = cases.filter(opened_on__gte=filters.date_from)
    if filters.date_to is not None:
        cases = cases.filter(opened_on__lte=filters.date_to)
    return cases.order_by()


def _cycle_cases(filters: ReportFilters) -> CaseQuerySet:
    cases = Case.objects.exclude(status=CaseStatus.WITHDRAWN)
    if filters.cycle_id is not None:
        cases = cases.filter(cycle_id=filters.cycle_id)
    if filters.cycle_ids:
        cases = cases.filter(cycle_id__in=filters.cycle_ids)
    if filters.ritual_type_id is not None:
        cases = cases.filter(cycle__ritual_type_id=filters.ritual_type_id)
    return cases.order_by()


def evidence_scope(
    filters: ReportFilters, tree: OrgTree, *, date_field: str | None = "impact_date"
) -> EvidenceQuerySet:
    """Evidence whose owner is in the subtree; with a cycle or ritual filter, only the evidence of those cases
    (the subjects' own items and items linked to the cases); `date_field` within the dates (None: no dates)."""
    items = Evidence.objects.all()
    units = subtree_ids(filters, tree)
    if units is not None:
        items = items.filter(owner__org_unit_id__in=units)
    if filters.cycle_id is not None or filters.cycle_ids or filters.ritual_type_id is not None:
        cases = _cycle_cases(filters)
        linked = CaseEvidence.objects.filter(case__in=cases).values("evidence_id")
        items = items.filter(
            Q(owner_id__in=cases.filter(subject_employee__isnull=False).values("subject_employee_id"))
            | Q(pk__in=linked)
        )
    if date_field is not None:
        items = within(items, date_field, filters.date_from, filters.date_to)
    return items.order_by()


def within(items: EvidenceQuerySet, field: str, start: dt.date | None, end: dt.date | None) -> EvidenceQuerySet:
    """Restrict a date or datetime field to the days from `start` to `end`, both included."""
    is_datetime = field.endswith("_at")
    lookup = f"{field}__date" if is_datetime else field
    if start is not None:
        items = items.filter(**{f"{lookup}__gte": start})
    if end is not None:
        items = items.filter(**{f"{lookup}__lte": end})
    return items
