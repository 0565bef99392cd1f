"""Demo data for privacy requests: one person who left asked to be erased, so the demo shows "Erased person #N" in
the lists and a `person_erased` event in the audit trail, with the trail still verifying."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.cases.models import Case
from apps.org.models import Employee

from .erasure import erase_person
from .holds import held_employee_ids
from .persons import Person

DEMO_REASON = "Erasure request by e-mail after leaving the company; identity checked by HR (demo)."


def seed_erased_person(*, employees: Sequence[Employee], by: Any) -> str:
    """Erase one employee without a login, an open case, a hold or reports of their own; return the summary line."""
    busy = set(Case.objects.open().exclude(subject_employee=None).values_list("subject_employee_id", flat=True))
    busy |= held_employee_ids()
    busy |= set(Employee.objects.exclude(manager=None).values_list("manager_id", flat=True))
    chosen = next((e for e in reversed(employees) if e.user_id is None and e.pk not in busy), None)
    if chosen is None:
        return "Privacy: nobody could be erased for the demo (everyone has an open case, a hold or a login)."
    report = erase_person(person=Person.for_employee(chosen), by=by, reason=DEMO_REASON)
    return f"Privacy: {report.label} was erased on request ({report.summary().split(': ', 1)[-1].rstrip('.')})."
