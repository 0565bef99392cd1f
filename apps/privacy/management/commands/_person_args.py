"""What the privacy commands share: finding the person and the HR user who acts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from apps.org.models import Employee
from apps.privacy.persons import Person


def add_person_arguments(parser: CommandParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--employee", help="The employee's number, e.g. E00012 (their login goes with them).")
    who.add_argument("--user", help="The user name of a login without an employee.")
    parser.add_argument("--by", required=True, help="User name of the HR person acting (needs the permission).")


def person_from(options: dict[str, Any]) -> Person:
    users = get_user_model().objects
    if options["employee"]:
        employee = Employee.objects.select_related("user").filter(employee_number=options["employee"].strip()).first()
        if employee is None:
            raise CommandError(f"No employee numbered {options['employee']!r}.")
        return Person.for_employee(employee)
    user = users.filter(username=options["user"].strip()).first()
    if user is None:
        raise CommandError(f"No user named {options['user']!r}.")
    return Person.for_user(user)


def acting_user(options: dict[str, Any]) -> Any:
    user = get_user_model().objects.filter(username=options["by"].strip()).first()
    if user is None:
        raise CommandError(f"--by {options['by']!r}: no such user.")
    return user
