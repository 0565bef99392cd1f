"""Legal holds, read: who and what retention and erasure must leave alone."""

from __future__ import annotations

from django.db.models import Q

from apps.cases.models import Case
from apps.org.models import Employee

from .models import LegalHold


def person_on_hold(employee: Employee) -> bool:
    """True while an active hold names the person (or one of the cases about them)."""
    return LegalHold.objects.active().filter(Q(employee=employee) | Q(case__subject_employee=employee)).exists()


def case_on_hold(case: Case) -> bool:
    """True while an active hold names the case or its subject."""
    query = Q(case=case)
    if case.subject_employee_id is not None:
        query |= Q(employee_id=case.subject_employee_id)
    return LegalHold.objects.active().filter(query).exists()


def held_employee_ids() -> set[int]:
    """Every person an active hold names, directly or through a case about them (one query)."""
    ids: set[int] = set()
    for employee_id, subject_id in LegalHold.objects.active().values_list("employee_id", "case__subject_employee_id"):
        ids.update(i for i in (employee_id, subject_id) if i is not None)
    return ids


def held_case_ids() -> set[int]:
    """Every case an active hold names directly (one query); cases of held people come through held_employee_ids."""
    return set(LegalHold.objects.active().filter(case__isnull=False).values_list("case_id", flat=True))
