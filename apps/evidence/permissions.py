"""Who may see, edit and review evidence: the one place these rules live, for pages, API and lists alike.

- The owner sees their items and edits drafts and items sent back for changes.
- The owner's managers (at any level) and members of "CX reviewers" see submitted and reviewed items and review
  submitted ones; nobody reviews their own evidence.
- HR sees everything. Nobody else sees an item.
"""

from __future__ import annotations

from django.db.models import Q

from apps.common.roles import is_cx_reviewer, is_hr
from apps.org.models import Employee
from apps.org.selectors import (
    has_reports,
    heads_whole_organisation,
    is_in_manager_chain,
    reports_subtree_sql,
    self_and_reports_sql,
)

from .constants import EDITABLE_STATUSES, EvidenceStatus
from .models import Evidence, EvidenceQuerySet

# The statuses the owner's managers and CX reviewers see: every status but draft.
VISIBLE_BEYOND_OWNER = tuple(status for status in EvidenceStatus if status != EvidenceStatus.DRAFT)


def employee_of(user: object) -> Employee | None:
    """The employee record of a login, or None.

    `user.employee` is Django's reverse one-to-one accessor: it reads once and keeps the record (or its absence)
    on the user object, and a login loaded with `select_related("employee")` (the API's token authentication)
    needs no query at all.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.employee  # type: ignore[attr-defined]
    except Employee.DoesNotExist:
        return None


def evidence_visible_to(user: object, queryset: EvidenceQuerySet | None = None) -> EvidenceQuerySet:
    """Filter evidence down to what `user` may see (used by every list, page and API view)."""
    queryset = queryset if queryset is not None else Evidence.objects.all()
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if is_hr(user):
        return queryset
    employee = employee_of(user)
    # Every condition is one an index serves (owner, or owner and status): an OR of "owner = me" with a subquery
    # on the owner makes PostgreSQL read every item. "Not a draft" is written as the list of the other statuses,
    # which the (owner, status, impact_date) index can look up, where "status <> 'draft'" cannot be.
    beyond_draft = Q(status__in=VISIBLE_BEYOND_OWNER)
    if is_cx_reviewer(user):
        # CX reviewers see every item beyond draft, which covers anything their place in the tree would show.
        return queryset.filter(beyond_draft | Q(owner_id=employee.pk) if employee is not None else beyond_draft)
    if employee is None:
        return queryset.none()
    # Most people manage nobody: their items are simply their own.
    if not has_reports(employee.pk):
        return queryset.filter(owner_id=employee.pk)
    # The head of the whole organisation: everyone is a report, so the draft rule alone decides (no subtree to walk).
    if heads_whole_organisation(employee):
        return queryset.filter(Q(owner_id=employee.pk) | beyond_draft)
    # A manager: the owners they may see (themselves and their reports at any depth, one recursive subquery the
    # owner index joins to), then the draft rule on those few rows.
    mine_or_reports = queryset.filter(owner_id__in=self_and_reports_sql(employee.pk))
    return mine_or_reports.filter(Q(owner_id=employee.pk) | beyond_draft)


def review_queue_for(user: object, queryset: EvidenceQuerySet | None = None) -> EvidenceQuerySet:
    """Submitted items `user` may review: their reports' (any depth), or anyone's for CX reviewers and HR."""
    queryset = (queryset if queryset is not None else Evidence.objects.all()).awaiting_review()
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    employee = employee_of(user)
    if employee is not None:
        queryset = queryset.exclude(owner_id=employee.pk)
    if is_hr(user) or is_cx_reviewer(user):
        return queryset
    if employee is None:
        return queryset.none()
    if heads_whole_organisation(employee):
        return queryset
    return queryset.filter(owner_id__in=reports_subtree_sql(employee.pk))


def can_view(user: object, evidence: Evidence) -> bool:
    """May `user` see this item?"""
    if not getattr(user, "is_authenticated", False):
        return False
    if is_hr(user):
        return True
    employee = employee_of(user)
    if employee is not None and evidence.owner_id == employee.pk:
        return True
    if evidence.status == EvidenceStatus.DRAFT:
        return False
    if is_cx_reviewer(user):
        return True
    return employee is not None and is_in_manager_chain(manager_id=employee.pk, employee_id=evidence.owner_id)


def can_edit(user: object, evidence: Evidence) -> bool:
    """Only the owner edits, and only drafts and items sent back for changes."""
    employee = employee_of(user)
    return employee is not None and evidence.owner_id == employee.pk and evidence.status in EDITABLE_STATUSES


def can_review(user: object, evidence: Evidence) -> bool:
    """Managers of the owner, CX reviewers and HR review; never the owner."""
    if not getattr(user, "is_authenticated", False):
        return False
    employee = employee_of(user)
    if employee is not None and evidence.owner_id == employee.pk:
        return False
    if is_hr(user) or is_cx_reviewer(user):
        return True
    return employee is not None and is_in_manager_chain(manager_id=employee.pk, employee_id=evidence.owner_id)


def review_refusal(user: object, evidence: Evidence) -> str | None:
    """Why `user` may not review this item now, or None when they may."""
    employee = employee_of(user)
    if employee is not None and evidence.owner_id == employee.pk:
        return "You cannot review your own evidence."
    if not can_review(user, evidence):
        return "Only the owner's managers, CX reviewers and HR can review this item."
    return None
