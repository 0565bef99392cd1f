"""A person whose data the product holds (an employee with their user, a user, or a hiring candidate), and the
rows the data map says are about them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q

from apps.cases.models import Case
from apps.org.models import Employee

from .datamap import Entry, Subject

User = get_user_model()

# The audit trail's person identities (apps.audit.personal.PersonKey.person_type).
EMPLOYEE_KEY = "org.employee"
USER_KEY = "auth.user"
CANDIDATE_KEY = "cases.case"


@dataclass(frozen=True)
class Person:
    """One person: an employee (and their user), a user without an employee, or a candidate by e-mail."""

    employee: Employee | None
    user: Any | None
    candidate_email: str = ""

    @classmethod
    def for_employee(cls, employee: Employee) -> Person:
        return cls(employee=employee, user=employee.user)

    @classmethod
    def for_user(cls, user: Any) -> Person:
        employee = Employee.objects.filter(user=user).first()
        return cls(employee=employee, user=user)

    @classmethod
    def for_candidate(cls, email: str) -> Person:
        return cls(employee=None, user=None, candidate_email=email.strip())

    @property
    def label(self) -> str:
        """What pages show: the employee's name and number, the user's name, or the candidate's e-mail."""
        if self.employee is not None:
            return str(self.employee)
        if self.user is not None:
            return self.user.get_full_name() or self.user.get_username()
        return f"candidate {self.candidate_email}"

    @property
    def key_ids(self) -> list[tuple[str, str]]:
        """The audit trail's identities of the person (apps.audit.personal.PersonKey): the employee, the user, and
        each hiring case of a candidate (one query for a candidate, none otherwise)."""
        ids = []
        if self.employee is not None:
            ids.append((EMPLOYEE_KEY, str(self.employee.pk)))
        if self.user is not None:
            ids.append((USER_KEY, str(self.user.pk)))
        if self.candidate_email:
            cases = candidate_cases(self.candidate_email).values_list("pk", flat=True)
            ids.extend((CANDIDATE_KEY, str(pk)) for pk in cases)
        return ids


def candidate_cases(email: str) -> models.QuerySet[Case]:
    """The hiring cases of a candidate (e-mail compared without case)."""
    return Case.objects.filter(candidate_email__iexact=email.strip()).exclude(candidate_email="").order_by("pk")


def subject_q(subject: Subject, person: Person) -> Q | None:
    """The filter of the rows `subject` makes about `person`, or None when the person is not of that kind."""
    if subject.kind == "employee":
        return None if person.employee is None else Q(**{subject.lookup: person.employee.pk})
    if subject.kind == "user":
        if person.user is None:
            return None
        if subject.lookup.split("__")[-1] == "username":  # a login name recorded as text (axes)
            return Q(**{subject.lookup: person.user.get_username()})
        return Q(**{subject.lookup: person.user.pk})
    if not person.candidate_email:
        return None
    return Q(**{f"{subject.lookup}__iexact": person.candidate_email}) & ~Q(**{subject.lookup: ""})


def rows_for(entry: Entry, person: Person, *, subject: Subject | None = None) -> models.QuerySet[Any]:
    """The entry's rows about the person: the union over its subjects (or of one `subject`), each row once.

    Uses the model's base manager, so no default filtering hides a row.
    """
    model = entry.model_class()
    rows = model._base_manager.all()
    query = None
    for candidate in (subject,) if subject is not None else entry.subjects:
        q = subject_q(candidate, person)
        if q is not None:
            query = q if query is None else query | q
    if query is None:
        return rows.none()
    return rows.filter(query).distinct().order_by("pk")
