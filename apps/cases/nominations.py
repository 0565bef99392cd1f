"""Open the cases of a cycle in bulk from a CSV of nominations: every row checked first, then all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from apps.audit.constants import AuditAction
from apps.audit.services import audit_record
from apps.common.text import has_control_characters
from apps.org.models import Employee, OrgUnit
from apps.policies.constants import SubjectKind

from .constants import CaseStatus
from .models import Case, Cycle
from .services import case_open_many

MAX_ROWS = 20_000
MAX_BYTES = 5 * 1024 * 1024
COLUMNS: dict[str, tuple[str, ...]] = {
    SubjectKind.EMPLOYEE: ("employee_number", "nominated_by"),
    SubjectKind.ORG_UNIT: ("unit_code", "nominated_by"),
    SubjectKind.CANDIDATE: ("candidate_name", "candidate_email", "nominated_by"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    SubjectKind.EMPLOYEE: ("employee_number",),
    SubjectKind.ORG_UNIT: ("unit_code",),
    SubjectKind.CANDIDATE: ("candidate_name", "candidate_email", "nominated_by"),
}


@dataclass(slots=True)
class NominationResult:
    """What a nominations import did, or why it did nothing."""

    opened: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _read(content: bytes) -> list[dict[str, str]]:
    if len(content) > MAX_BYTES:
        raise ValidationError(f"The file is larger than {MAX_BYTES // 1_048_576} MB.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"The file is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8.") from exc
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ValidationError("The file is empty; the first row must name the columns.")
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    rows: list[dict[str, str]] = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            raise ValidationError(f"The file has more than {MAX_ROWS:,} rows; split it.")
        rows.append({key: (value or "").strip() for key, value in row.items() if key})
    return rows


def _control_character_errors(rows: list[dict[str, str]]) -> list[str]:
    """Row-and-column errors for cells (or column names) holding control characters (apps.common.text)."""
    errors = []
    if rows and any(has_control_characters(name) for name in rows[0]):
        errors.append("The header row contains control characters, which are not allowed; remove them and retry.")
    for number, row in enumerate(rows, start=2):
        for name, value in row.items():
            if has_control_characters(value) and not has_control_characters(name):
                errors.append(f"Row {number}, column {name}: contains control characters, which are not allowed.")
    return errors


def cycle_nominations_import(
    *, cycle: Cycle, content: bytes, today: dt.date | None = None, by: User | None = None
) -> NominationResult:
    """Validate every row, then open all the cases in one transaction (or none, with row-numbered errors)."""
    result = NominationResult()
    kind = cycle.ritual_type.subject_kind
    try:
        rows = _read(content)
    except ValidationError as exc:
        result.errors.extend(exc.messages)
        return result
    if refused := _control_character_errors(rows):
        result.errors.extend(refused)
        return result
    header = set(rows[0]) if rows else set()
    missing = [name for name in REQUIRED[kind] if name not in header]
    unknown = sorted(header - set(COLUMNS[kind]))
    if missing or unknown or not rows:
        if missing:
            result.errors.append(f"Missing column(s): {', '.join(missing)}. Columns: {', '.join(COLUMNS[kind])}.")
        if unknown:
            result.errors.append(f"Unknown column(s): {', '.join(unknown)}. Columns: {', '.join(COLUMNS[kind])}.")
        if not rows:
            result.errors.append("The file has no nominations.")
        return result

    numbers = {row.get("employee_number", "") for row in rows} | {row.get("nominated_by", "") for row in rows}
    employees = {e.employee_number: e for e in Employee.objects.filter(employee_number__in=numbers - {""})}
    units = {u.code: u for u in OrgUnit.objects.filter(code__in={row.get("unit_code", "") for row in rows})}
    live = Case.objects.filter(cycle=cycle).exclude(status=CaseStatus.WITHDRAWN)
    taken_employees = set(live.values_list("subject_employee__employee_number", flat=True))
    taken_units = set(live.values_list("subject_unit__code", flat=True))
    taken_emails = {
        email.lower() for email in live.exclude(candidate_email="").values_list("candidate_email", flat=True)
    }

    subjects: list[dict] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        where = f"Row {number}"
        for name in REQUIRED[kind]:
            if not row.get(name):
                result.errors.append(f"{where}, column {name}: this cell is required.")
        nominator = None
        if row.get("nominated_by"):
            nominator = employees.get(row["nominated_by"])
            if nominator is None:
                result.errors.append(f"{where}, column nominated_by: no employee numbered '{row['nominated_by']}'.")
        subject: dict = {"nominated_by": nominator}
        key = ""
        if kind == SubjectKind.EMPLOYEE and row.get("employee_number"):
            key = row["employee_number"]
            person = employees.get(key)
            if person is None:
                result.errors.append(f"{where}, column employee_number: no employee numbered '{key}'.")
            elif not person.active:
                result.errors.append(f"{where}, column employee_number: {person} is not active.")
            elif key in taken_employees:
                result.errors.append(f"{where}, column employee_number: {person} already has a case in {cycle}.")
            subject["subject_employee"] = person
        elif kind == SubjectKind.ORG_UNIT and row.get("unit_code"):
            key = row["unit_code"]
            unit = units.get(key)
            if unit is None:
                result.errors.append(f"{where}, column unit_code: no org unit with code '{key}'.")
            elif key in taken_units:
                result.errors.append(f"{where}, column unit_code: {unit} already has a case in {cycle}.")
            subject["subject_unit"] = unit
        elif kind == SubjectKind.CANDIDATE and row.get("candidate_name"):
            key = (row.get("candidate_email") or row["candidate_name"]).lower()
            if row.get("candidate_email"):
                try:
                    validate_email(row["candidate_email"])
                except ValidationError:
                    result.errors.append(f"{where}, column candidate_email: '{row['candidate_email']}' is not valid.")
                if key in taken_emails:
                    result.errors.append(
                        f"{where}, column candidate_email: {row['candidate_name']} <{row['candidate_email']}> "
                        f"already has a live case in {cycle}."
                    )
            subject["candidate_name"] = row["candidate_name"]
            subject["candidate_email"] = row.get("candidate_email", "")
        if key:
            if key in seen:
                result.errors.append(f"{where}: the same subject is already nominated on row {seen[key]}.")
            seen[key] = number
        subjects.append(subject)
    if result.errors:
        return result
    try:
        with transaction.atomic():
            cases = case_open_many(cycle=cycle, subjects=subjects, today=today, by=by)
            audit_record(
                action=AuditAction.IMPORT_MADE,
                obj=cycle,
                context={"kind": "nominations", "cases_opened": len(cases)},
            )
    except ValidationError as exc:
        result.errors.extend(exc.messages)
        return result
    result.opened = len(cases)
    return result
