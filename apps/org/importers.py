"""CSV import of org units and employees: read, check every row, then write the whole file or nothing."""

from __future__ import annotations

import contextlib
import csv
import importlib
import importlib.util
import io
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction

from .constants import MAX_CUSTOMER_LAYER, JobFunction, JobLevel
from .models import Employee, OrgUnit, code_validator

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
MAX_REPORTED_ERRORS = 200
# Existing rows are fetched for saving in chunks, which keeps each IN (...) below SQLite's parameter limit.
UPDATE_CHUNK = 500
TRUE_WORDS = ("yes", "true", "1", "y")
FALSE_WORDS = ("no", "false", "0", "n")


class ImportKind(models.TextChoices):
    """What an org CSV file holds."""

    UNITS = "units", "org units"
    EMPLOYEES = "employees", "employees"


@dataclass(frozen=True, slots=True)
class Column:
    """One CSV column: header name, whether the header must have it, and what it holds (shown to uploaders)."""

    name: str
    required: bool
    help: str


COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.UNITS: (
        Column("code", True, "Unique key of the unit: lower-case letters, digits, '-' and '_'."),
        Column("name", True, "Display name."),
        Column("parent_code", True, "Code of the parent unit, in this file or already imported; empty for the root."),
        Column(
            "customer_layer",
            True,
            f"0 = works with external customers, 1 = serves layer 0, ... up to {MAX_CUSTOMER_LAYER}.",
        ),
        Column("description", False, "Free text; an empty cell clears the description."),
        Column("active", False, "yes/no; an empty cell keeps the current value (new units: yes)."),
    ),
    ImportKind.EMPLOYEES: (
        Column("employee_number", True, "Unique HR identifier, e.g. E01234."),
        Column("full_name", True, "Name as it should appear."),
        Column("email", True, "Work e-mail; unique across all employees (case does not matter)."),
        Column("org_unit_code", True, "Code of an org unit that already exists (import units first)."),
        Column("job_level", True, "One of: " + ", ".join(JobLevel.values) + "."),
        Column("job_function", True, "One of: " + ", ".join(JobFunction.values) + "."),
        Column("manager_employee_number", True, "Employee number of the manager, in this file or already imported."),
        Column("timezone", True, "IANA time zone name, e.g. Europe/Paris."),
        Column("active", False, "yes/no; an empty cell keeps the current value (new employees: yes)."),
    ),
}

EXAMPLES: dict[str, str] = {
    ImportKind.UNITS: (
        "code,name,parent_code,customer_layer,description,active\n"
        "acme,Acme Hotels,,3,The whole company,yes\n"
        "front-desk,Front Desk,guest-experience,0,Check-in and check-out,yes\n"
        "guest-experience,Guest Experience,acme,0,,yes\n"
    ),
    ImportKind.EMPLOYEES: (
        "employee_number,full_name,email,org_unit_code,job_level,job_function,manager_employee_number,timezone,active\n"
        "E00002,Dana Okafor,dana.okafor@example.com,front-desk,lead,support,E00001,Europe/Paris,yes\n"
        "E00001,Jonas Berg,jonas.berg@example.com,acme,executive,operations,,Europe/Berlin,yes\n"
    ),
}


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem found in the file; row is the file's line number with the header as row 1."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        where = f"Row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ImportResult:
    """What an import did (or, on a dry run, would do); when there are errors nothing was written."""

    kind: str
    file_name: str
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """Return the counts as one sentence."""
        if self.dry_run:
            return f"Would create {self.created}, update {self.updated}, leave {self.unchanged} unchanged."
        return f"Created {self.created}, updated {self.updated}, left {self.unchanged} unchanged."

    def error_lines(self, limit: int = MAX_REPORTED_ERRORS) -> list[str]:
        """Return the errors as report lines, at most `limit` of them and then a count of the rest."""
        lines = [str(error) for error in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"... and {len(self.errors) - limit} more.")
        return lines


def size_problem(size: int) -> str | None:
    """Return why a file of `size` bytes is refused, or None when it is small enough."""
    if size <= MAX_IMPORT_BYTES:
        return None
    return f"The file is {size / 1_048_576:.1f} MB; the limit is {MAX_IMPORT_BYTES // 1_048_576} MB. Split it."


def org_csv_import(*, kind: str, content: bytes, file_name: str, dry_run: bool = False) -> ImportResult:
    """Check every row of an org CSV; unless it is a dry run or any row is wrong, write the whole file at once."""
    kind = ImportKind(kind)
    result = ImportResult(kind=kind, file_name=file_name, dry_run=dry_run)
    try:
        header, rows, result.errors = _read_table(content, kind)
    except _Refused as refused:
        result.errors = refused.errors
        return result
    plan_rows = _plan_units if kind == ImportKind.UNITS else _plan_employees
    try:
        # A real import validates inside its transaction, so what it checked is what it writes.
        with contextlib.nullcontext() if dry_run else transaction.atomic(durable=True):
            plan = plan_rows(rows, header, result.errors)
            if not result.errors:
                result.created, result.updated, result.unchanged = len(plan.creates), len(plan.updates), plan.unchanged
                if not dry_run:
                    _write(plan, kind)
                    _audit_import(result)
    except IntegrityError as exc:
        result.created = result.updated = result.unchanged = 0
        result.errors = [RowError(None, None, f"The organisation changed during the import ({exc}); nothing written.")]
    result.errors.sort(key=lambda error: error.row or 0)
    return result


# Reading ------------------------------------------------------------------------------------------------------------


class _Refused(Exception):
    """The file as a whole cannot be used; carries the errors that say why."""

    def __init__(self, *errors: RowError) -> None:
        super().__init__(errors)
        self.errors = list(errors)


def _read_table(content: bytes, kind: str) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[RowError]]:
    """Return the header, the non-blank rows with their line numbers, and rows whose shape is wrong."""
    if problem := size_problem(len(content)):
        raise _Refused(RowError(None, None, problem))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise _Refused(
            RowError(line, None, "this is not UTF-8 text; save the file as 'CSV UTF-8' and retry.")
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    line = count = 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num  # a quoted cell may span lines; report where the row starts
            if header is None:
                header = _check_header(cells, kind, start)
            elif any(cell.strip() for cell in cells):
                count += 1
                if count > MAX_IMPORT_ROWS:
                    raise _Refused(RowError(None, None, f"The file has over {MAX_IMPORT_ROWS:,} rows; split it."))
                if len(cells) != len(header):
                    errors.append(RowError(start, None, f"has {len(cells)} cells but the header has {len(header)}."))
                else:
                    rows.append((start, {name: cell.strip() for name, cell in zip(header, cells, strict=True)}))
    except csv.Error as exc:
        raise _Refused(RowError(reader.line_num, None, f"the CSV cannot be read: {exc}.")) from None
    if header is None:
        raise _Refused(RowError(None, None, "The file is empty; its first row must be the header."))
    return header, rows, errors


def _check_header(cells: list[str], kind: str, line: int) -> list[str]:
    """Return the normalised column names, or refuse a header with missing, unknown, blank or repeated names."""
    names = [cell.strip().lower().replace(" ", "_") for cell in cells]
    columns = COLUMNS[kind]
    allowed = ", ".join(column.name for column in columns)
    if len(names) == 1 and ";" in names[0]:
        raise _Refused(RowError(line, None, "the header is separated by ';'; save the file with commas."))
    problems = []
    if blank := [str(index) for index, name in enumerate(names, 1) if not name]:
        problems.append(f"header cell(s) {', '.join(blank)} are empty.")
    if repeated := sorted({name for name in names if name and names.count(name) > 1}):
        problems.append(f"repeated columns: {', '.join(repeated)}.")
    if missing := [column.name for column in columns if column.required and column.name not in names]:
        problems.append(f"missing required columns: {', '.join(missing)} (expected: {allowed}).")
    if unknown := [name for name in names if name and name not in {column.name for column in columns}]:
        problems.append(f"unknown columns: {', '.join(unknown)} (allowed: {allowed}).")
    if problems:
        raise _Refused(*(RowError(line, None, problem) for problem in problems))
    return names


class _Cells:
    """The cells of one row, read by type; each bad cell records a row-and-column error."""

    def __init__(self, line: int, cells: dict[str, str], errors: list[RowError]) -> None:
        self.line, self.cells, self.errors = line, cells, errors

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.line, column, message))

    def text(self, column: str, *, required: bool = False, max_length: int | None = None) -> str | None:
        """Return the cell ('' when blank), or None when the column is absent or the cell is wrong."""
        value = self.cells.get(column)
        if value is None:
            return None
        if required and not value:
            self.error(column, "a value is required.")
            return None
        if max_length is not None and len(value) > max_length:
            self.error(column, f"is {len(value)} characters long; the limit is {max_length}.")
            return None
        return value

    def integer(self, column: str, low: int, high: int) -> int | None:
        value = self.text(column, required=True)
        if not value:
            return None
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            self.error(column, f"'{value}' is not a whole number from {low} to {high}.")
            return None
        return int(value)

    def boolean(self, column: str) -> bool | None:
        """Return the yes/no cell, or None when blank or absent (meaning: keep the current value)."""
        value = (self.text(column) or "").lower()
        if value in TRUE_WORDS or value in FALSE_WORDS:
            return value in TRUE_WORDS
        if value:
            self.error(column, f"'{value}' is not yes/no; use one of: {', '.join(TRUE_WORDS + FALSE_WORDS)}.")
        return None

    def choice(self, column: str, choices: type[models.TextChoices], noun: str) -> str | None:
        """Return the stored value of a choice given by value or label, in any case."""
        value = self.text(column, required=True)
        if not value:
            return None
        for stored, label in choices.choices:
            if value.lower() in (stored.lower(), str(label).lower()):
                return stored
        self.error(column, f"'{value}' is not a {noun}; use one of: {', '.join(choices.values)}.")
        return None


# Checking -----------------------------------------------------------------------------------------------------------


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
    for line, parent in parents:
        if parent not in wanted and parent not in existing:
            message = f"no unit has the code '{parent}', in this file or in the organisation."
            errors.append(RowError(line, "parent_code", message))
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
    for _pk, number, *values in records:
        existing[number] = dict(zip(fields, values, strict=True))
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
    for line, manager in managers:
        if manager not in wanted and manager not in existing:
            message = f"no employee has the number '{manager}', in this file or in the organisation."
            errors.append(RowError(line, "manager_employee_number", message))
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


# Writing ------------------------------------------------------------------------------------------------------------


def _write(plan: _Plan, kind: str) -> None:
    """Insert new rows parents first, so every link is set on insert, then save each changed existing row."""
    model: type[models.Model] = OrgUnit if kind == ImportKind.UNITS else Employee
    key_field, link = ("code", "parent") if kind == ImportKind.UNITS else ("employee_number", "manager")
    ids = dict(plan.ids)
    for chunk in _chunks(plan.park_emails_of):
        # Frees addresses that move between people in this file; each holder's row then sets its new address.
        for employee in Employee.objects.in_bulk([ids[number] for number in chunk]).values():
            employee.email = f"import-swap-{employee.pk}@invalid.invalid"
            employee.save(update_fields=["email", "updated_at"])
    for wave in _waves(plan.creates, link):
        objects = [model(**{key_field: key}, **_resolved(plan.creates[key], link, ids)) for key in wave]
        # SQLite >= 3.35 and PostgreSQL return the new primary keys, which the next wave links to.
        model.objects.bulk_create(objects)
        ids.update((getattr(obj, key_field), obj.pk) for obj in objects)
    for chunk in _chunks(list(plan.updates)):
        instances = model.objects.in_bulk([ids[key] for key in chunk])
        for key in chunk:
            instance, changes = instances[ids[key]], _resolved(plan.updates[key], link, ids)
            for name, value in changes.items():
                setattr(instance, name, value)
            instance.save(update_fields=[*changes, "updated_at"])


def _resolved(values: dict[str, Any], link: str, ids: dict[str, int]) -> dict[str, Any]:
    """Return field values with the link key turned into a primary key."""
    resolved = {name: value for name, value in values.items() if name != link}
    if link in values:
        resolved[f"{link}_id"] = ids[values[link]] if values[link] else None
    return resolved


def _waves(creates: dict[str, dict[str, Any]], link: str) -> list[list[str]]:
    """Group new rows by their depth among the new rows, so each group links only to rows inserted before it."""
    depth: dict[str, int] = {}
    for key in creates:
        path: list[str] = []
        node = key
        while node in creates and node not in depth:
            if node in path:
                raise RuntimeError(f"Loop through '{node}' reached the write phase.")
            path.append(node)
            node = creates[node][link]
        level = depth.get(node, -1)
        for step in reversed(path):
            level += 1
            depth[step] = level
    waves: dict[int, list[str]] = defaultdict(list)
    for key, level in depth.items():
        waves[level].append(key)
    return [waves[level] for level in sorted(waves)]


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), UPDATE_CHUNK):
        yield keys[start : start + UPDATE_CHUNK]


def _audit_import(result: ImportResult) -> None:
    """Record the import in the audit trail, in the import's transaction, once apps.audit.services exists."""
    # The audit app is being built alongside; until its services module lands there is nothing to call.
    if importlib.util.find_spec("apps.audit.services") is None:
        return
    audit = importlib.import_module("apps.audit.services")
    model = OrgUnit if result.kind == ImportKind.UNITS else Employee
    audit.audit_record(
        action="import_made",
        object_type=model._meta.label_lower,
        object_repr=f"{result.file_name}: {result.summary()}",
        context={
            "kind": str(result.kind),
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "file_name": result.file_name,
        },
    )
