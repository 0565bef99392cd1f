"""Who sees which cases: the one rule used by pages, the API and every list."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from apps.common.roles import is_hr, is_leadership, user_role_names
from apps.evidence.permissions import employee_of
from apps.org.models import Employee
from apps.org.selectors import reports_subtree_sql

from .models import ApprovalStep, Case, CaseQuerySet


def cases_visible_to(
    user: object, queryset: CaseQuerySet | None = None, *, today: dt.date | None = None
) -> CaseQuerySet:
    """Who sees which cases.

    HR and Leadership see every case; an employee sees their own, their nominations and their reports'. Whoever
    approves a step sees the cases that step decides: members of a named group the cases of rituals whose route
    has a step for that group, and a delegate, while the delegation runs, what the person they act for sees.
    """
    queryset = queryset if queryset is not None else Case.objects.all()
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if is_hr(user) or is_leadership(user):
        return queryset
    visible = _own_rule(employee_of(user))
    groups = user_role_names(user)  # read once per request with the roles
    if groups:
        routed = ApprovalStep.objects.filter(group__name__in=groups).values("route__ritual_type_id")
        visible |= Q(cycle__ritual_type_id__in=routed)
    today = today or timezone.localdate()
    principals = (
        User.objects.filter(
            delegations_given__delegate_id=getattr(user, "pk", None),
            delegations_given__starts_on__lte=today,
            delegations_given__ends_on__gte=today,
        )
        .select_related("employee")
        .distinct()
        if isinstance(user, User)
        else []
    )
    for principal in principals:
        if is_hr(principal) or is_leadership(principal):
            return queryset
        visible |= _own_rule(employee_of(principal))
    return queryset.filter(visible) if visible else queryset.none()


def _own_rule(employee: Employee | None) -> Q:
    """An employee's own cases, their nominations and their reports' (an empty Q without an employee record)."""
    if employee is None:
        return Q()
    subtree = reports_subtree_sql(employee.pk)
    return (
        Q(subject_employee_id=employee.pk)
        | Q(nominated_by_id=employee.pk)
        | Q(subject_employee_id__in=subtree)
        | Q(subject_employee__isnull=True, nominated_by_id__in=reports_subtree_sql(employee.pk))
    )
