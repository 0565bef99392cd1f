"""Who sees which cases: the one rule used by pages, the API and every list."""

from __future__ import annotations

from django.db.models import Q

from apps.common.roles import is_hr, is_leadership
from apps.evidence.permissions import employee_of
from apps.org.selectors import reports_subtree_sql

from .models import Case, CaseQuerySet


def cases_visible_to(user: object, queryset: CaseQuerySet | None = None) -> CaseQuerySet:
    """HR and Leadership see every case; an employee sees their own, their nominations and their reports'."""
    queryset = queryset if queryset is not None else Case.objects.all()
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if is_hr(user) or is_leadership(user):
        return queryset
    employee = employee_of(user)
    if employee is None:
        return queryset.none()
    subtree = reports_subtree_sql(employee.pk)
    return queryset.filter(
        Q(subject_employee_id=employee.pk)
        | Q(nominated_by_id=employee.pk)
        | Q(subject_employee_id__in=subtree)
        | Q(subject_employee__isnull=True, nominated_by_id__in=reports_subtree_sql(employee.pk))
    )
