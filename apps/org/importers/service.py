"""The org CSV import service: read the file, check every row, then write the whole file or nothing."""

from __future__ import annotations

import contextlib

from django.db import IntegrityError, transaction

from .columns import ImportKind, ImportResult, RowError
from .planning import _plan_employees, _plan_units
from .reading import _read_table, _Refused
from .writing import _audit_import, _write


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
