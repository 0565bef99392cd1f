"""Legal holds: placing and releasing them, and who and what retention and erasure must leave alone."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

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


@transaction.atomic
def hold_place(*, reason: str, by: Any, employee: Employee | None = None, case: Case | None = None) -> LegalHold:
    """Place a hold on one person or one case, with the reason (a claim or request); audited by the capture."""
    if by is None or not by.has_perm("privacy.add_legalhold"):
        raise PermissionDenied("You do not have permission to place legal holds.")
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = "Say which matter or request requires keeping the data, e.g. a claim number."
    if (employee is None) == (case is None):
        errors["employee"] = "Place the hold on one person or one case."
    if errors:
        raise ValidationError(errors)
    return LegalHold.objects.create(employee=employee, case=case, reason=reason, placed_by=by)


@transaction.atomic
def hold_release(*, hold: LegalHold, by: Any) -> LegalHold:
    """Release an active hold (who and when are recorded); retention and erasure may then remove what it kept."""
    if by is None or not by.has_perm("privacy.change_legalhold"):
        raise PermissionDenied("You do not have permission to release legal holds.")
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise ValidationError(f"Legal hold #{hold.pk} was released already.")
    hold.released_by = by
    hold.released_at = timezone.now()
    hold.save(update_fields=["released_by", "released_at"])
    return hold
