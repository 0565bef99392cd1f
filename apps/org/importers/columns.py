"""The columns of each kind of org CSV, the import limits, and what an import reports (errors, result)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

from ..constants import MAX_CUSTOMER_LAYER, JobFunction, JobLevel

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
MAX_REPORTED_ERRORS = 200


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
