"""Checking org CSV rows against each other and the organisation, and planning the writes a valid file needs."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..constants import MAX_CUSTOMER_LAYER, JobFunction, JobLevel
from ..models import Employee, OrgUnit, code_validator
from .columns import RowError
from .reading import _Cells


@dataclass(slots=True)
class _Plan:
    """The writes a valid file needs; links are keys ('parent' = a unit code, 'manager' = an employee number)."""

    ids: dict[str, int]
    creates: dict[str, dict[str, Any]] = field(default_factory=dict)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    unchanged: int = 0
    park_emails_of: list[str] = field(default_factory=list)


def _plan_units(rows: list[tuple[int, dict[str, str]]], header: list[str], errors: list[RowError]) -> _Plan:
    """Check unit rows against each other and the tree (one query) and return the writes they need."""
    records = OrgUnit.objects.values_list("id", "code", "parent_id", "name", "customer_layer", "description", "active")
    code_of = {pk: code for pk, code, *_ in records}
    existing = {
        code: {"name": name, "parent": code_of.get(parent_id), "customer_layer": layer, "description": d, "active": a}
        for _pk, code, parent_id, name, layer, d, a in records
    }
    wanted: dict[str, dict[str, Any]] = {}
    line_of: dict[str, int] = {}
    parents: list[tuple[int, str]] = []
    for line, raw in rows:
        cells = _Cells(line, raw, errors)
        code = cells.text("code", required=True, max_length=OrgUnit._meta.get_field("code").max_length)
        code = _checked_key(cells, "code", code, line_of, validator=code_validator)
        values: dict[str, Any] = {
            "name": cells.text("name", required=True, max_length=OrgUnit._meta.get_field("name").max_length),
            "parent": cells.text("parent_code") or None,
            "customer_layer": cells.integer("customer_layer", 0, MAX_CUSTOMER_LAYER),
        }
        if code is not None and values["parent"] == code:
            cells.error("parent_code", "a unit cannot be its own parent.")
        elif values["parent"]:
            parents.append((line, values["parent"]))
        if "description" in header:
            values["description"] = cells.text("description")
        if (active := cells.boolean("active")) is not None:
            values["active"] = active
        if code is not None:
            wanted[code] = values
    _report_unknown(parents, wanted, existing, "parent_code", "no unit has the code '{}'", errors)
    links = {code: values["parent"] for code, values in existing.items()} | {c: v["parent"] for c, v in wanted.items()}
    _report_loops(links, line_of, "parent_code", errors)
    return _diff(wanted, existing, ids={code: pk for pk, code in code_of.items()}, defaults={"description": ""})


def _plan_employees(rows: list[tuple[int, dict[str, str]]], header: list[str], errors: list[RowError]) -> _Plan:
    """Check employee rows against each other, the units and the employees (two queries); return the writes."""
    unit_ids = dict(OrgUnit.objects.values_list("code", "id"))
    fields = ("full_name", "email", "org_unit_id", "job_level", "job_function", "manager_id", "timezone", "active")
    records = Employee.objects.values_list("id", "employee_number", *fields)
    number_of = {pk: number for pk, number, *_ in records}
    existing = {}
    for _pk, number, *stored in records:
        existing[number] = dict(zip(fields, stored, strict=True))
        existing[number]["manager"] = number_of.get(existing[number].pop("manager_id"))
    owner_of_email = {values["email"].casefold(): number for number, values in existing.items()}
    zones = zoneinfo.available_timezones()  # slow to build: once per import, not once per row
    number_length = Employee._meta.get_field("employee_number").max_length
    wanted: dict[str, dict[str, Any]] = {}
    line_of: dict[str, int] = {}
    line_of_email: dict[str, int] = {}
    managers: list[tuple[int, str]] = []
    for line, raw in rows:
        cells = _Cells(line, raw, errors)
        number = cells.text("employee_number", required=True, max_length=number_length)
        number = _checked_key(cells, "employee_number", number, line_of)
        email = _checked_email(cells, line_of_email)
        unit_code = cells.text("org_unit_code", required=True)
        if unit_code and unit_code not in unit_ids:
            cells.error("org_unit_code", f"no org unit has the code '{unit_code}'; import the units first.")
        manager = cells.text("manager_employee_number") or None
        if manager is not None and manager == number:
            cells.error("manager_employee_number", "a person cannot be their own manager.")
        elif manager is not None:
            managers.append((line, manager))
        timezone = cells.text("timezone", required=True)
        if timezone and timezone not in zones:
            cells.error("timezone", f"'{timezone}' is not a known time zone; use an IANA name such as 'Europe/Paris'.")
        values: dict[str, Any] = {
            "full_name": cells.text(
                "full_name", required=True, max_length=Employee._meta.get_field("full_name").max_length
            ),
            "email": email,
            "org_unit_id": unit_ids.get(unit_code or ""),
            "job_level": cells.choice("job_level", JobLevel, "job level"),
            "job_function": cells.choice("job_function", JobFunction, "job function"),
            "manager": manager,
            "timezone": timezone,
        }
        if (active := cells.boolean("active")) is not None:
            values["active"] = active
        if number is not None:
            wanted[number] = values
    _report_unknown(managers, wanted, existing, "manager_employee_number", "no employee has the number '{}'", errors)
    for number, values in wanted.items():
        owner = owner_of_email.get((values["email"] or "").casefold())
        if owner is not None and owner != number and owner not in wanted:
            errors.append(
                RowError(line_of[number], "email", f"'{values['email']}' already belongs to employee {owner}.")
            )
    links = {number: values["manager"] for number, values in existing.items()}
    links |= {number: values["manager"] for number, values in wanted.items()}
    _report_loops(links, line_of, "manager_employee_number", errors)
    plan = _diff(wanted, existing, ids={number: pk for pk, number in number_of.items()}, defaults={})
    # An address that moves to another person in this file is first freed from its current holder (see _write).
    for number, values in wanted.items():
        owner = owner_of_email.get((values["email"] or "").casefold())
        if owner is not None and owner != number:
            plan.park_emails_of.append(owner)
    return plan


def _checked_key(
    cells: _Cells, column: str, key: str | None, line_of: dict[str, int], validator: Any = None
) -> str | None:
    """Return the row's key if it is well-formed and not already used by an earlier row of the file."""
    if not key:
        return None
    if validator is not None:
        try:
            validator(key)
        except ValidationError as exc:
            cells.error(column, f"'{key}': {exc.messages[0]}")
            return None
    if key in line_of:
        cells.error(column, f"'{key}' is already on row {line_of[key]}.")
        return None
    line_of[key] = cells.line
    return key


def _checked_email(cells: _Cells, line_of_email: dict[str, int]) -> str | None:
    """Return the row's e-mail if it is valid and no earlier row of the file uses it (in any case)."""
    email = cells.text("email", required=True, max_length=Employee._meta.get_field("email").max_length)
    if not email:
        return None
    try:
        validate_email(email)
    except ValidationError:
        cells.error("email", f"'{email}' is not a valid e-mail address.")
        return None
    if email.casefold() in line_of_email:
        cells.error("email", f"'{email}' is already used on row {line_of_email[email.casefold()]}.")
        return None
    line_of_email[email.casefold()] = cells.line
    return email


def _report_unknown(
    references: list[tuple[int, str]],
    wanted: dict[str, Any],
    existing: dict[str, Any],
    column: str,
    nothing_has: str,
    errors: list[RowError],
) -> None:
    # A row's reference (parent unit, manager) must name a row of this file or a record already in the organisation.
    for line, key in references:
        if key not in wanted and key not in existing:
            errors.append(RowError(line, column, f"{nothing_has.format(key)}, in this file or in the organisation."))


def _report_loops(links: dict[str, str | None], line_of: dict[str, int], column: str, errors: list[RowError]) -> None:
    """Report each loop in the final links that goes through the file, on the earliest file row in it."""
    state: dict[str, bool] = {}  # False while on the path being walked, True once known to be loop-free or reported
    for start in sorted(line_of, key=line_of.__getitem__):
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in state:
            state[node] = False
            path.append(node)
            node = links.get(node)
        if node is not None and state[node] is False:
            loop = path[path.index(node) :]
            in_file = [key for key in loop if key in line_of]
            if in_file and len(loop) > 1:  # a row naming itself is reported where it is read
                first = min(in_file, key=line_of.__getitem__)
                at = loop.index(first)
                shown = " → ".join([*loop[at:], *loop[:at], first])
                errors.append(RowError(line_of[first], column, f"this makes a loop: {shown}."))
        state.update(dict.fromkeys(path, True))


def _diff(
    wanted: dict[str, dict[str, Any]], existing: dict[str, dict[str, Any]], *, ids: dict[str, int], defaults: dict
) -> _Plan:
    """Split the wanted rows into creates, changes to existing rows, and rows already up to date."""
    plan = _Plan(ids=ids)
    for key, values in wanted.items():
        current = existing.get(key)
        if current is None:
            plan.creates[key] = {**defaults, **values}
        elif changes := {name: value for name, value in values.items() if current[name] != value}:
            plan.updates[key] = changes
        else:
            plan.unchanged += 1
    return plan
