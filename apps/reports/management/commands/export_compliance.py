"""Export a compliance report, or the case detail, to a CSV or XLSX file; the export is audited."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.cases.models import Cycle
from apps.reports.constants import ExportFormat, ReportKind
from apps.reports.filters import filters_from_query
from apps.reports.services import export_prepare, export_write


def _cycle_id(value: str) -> str:
    """A cycle given by id or by exact name, as its id."""
    if value.isdigit():
        if not Cycle.objects.filter(pk=int(value)).exists():
            raise CommandError(f"--cycle {value}: no cycle has this id.")
        return value
    found = list(Cycle.objects.filter(name=value).values_list("pk", flat=True))
    if not found:
        names = ", ".join(Cycle.objects.order_by("-opens_on").values_list("name", flat=True)[:10])
        raise CommandError(f"--cycle {value!r}: no cycle has this name. Recent cycles: {names or 'none'}.")
    return str(found[0])


class Command(BaseCommand):
    help = (
        "Write a compliance report (or the case detail: one row per case with each requirement met or not) "
        "to a CSV or XLSX file. Filters: --cycle, --ritual, --unit (and its sub-units), --from/--to."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", required=True, choices=ExportFormat.values, help="csv or xlsx.")
        parser.add_argument(
            "--report",
            default=ReportKind.CASES,
            choices=ReportKind.values,
            help="What to export (default: cases, the case detail; summary: every report).",
        )
        parser.add_argument("--cycle", help="Cycle id or exact name.")
        parser.add_argument("--ritual", help="Ritual type code, e.g. promotion.")
        parser.add_argument("--unit", help="Org unit code: the unit and every unit under it.")
        parser.add_argument("--from", dest="date_from", help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="date_to", help="Last day, YYYY-MM-DD (included).")
        parser.add_argument("--out", required=True, help="File to write, or '-' for standard output (CSV only).")

    def handle(self, *args: Any, **options: Any) -> None:
        query = {
            "cycle": _cycle_id(options["cycle"]) if options["cycle"] else "",
            "ritual": options["ritual"] or "",
            "unit": options["unit"] or "",
            "date_from": options["date_from"] or "",
            "date_to": options["date_to"] or "",
        }
        filters, form = filters_from_query({key: value for key, value in query.items() if value})
        if filters is None:
            raise CommandError(f"Invalid filters: {form.error_text()}")
        out, export_format = options["out"], options["format"]
        if out == "-" and export_format != ExportFormat.CSV:
            raise CommandError("Only CSV can go to standard output; give --out a file name for XLSX.")
        export = export_prepare(
            kind=options["report"], export_format=export_format, filters=filters, today=timezone.localdate()
        )
        if out == "-":
            rows = export_write(export=export, target=sys.stdout.buffer, destination="standard output")
            sys.stdout.flush()
            self.stderr.write(f"Exported {rows} rows.")
            return
        path = Path(out)
        if not path.parent.is_dir():
            raise CommandError(f"Cannot write {out}: the folder {path.parent} does not exist.")
        # Write beside the target and rename at the end: a failed export leaves no half-written file behind.
        try:
            handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror}.") from exc
        try:
            with os.fdopen(handle, "wb") as target:
                rows = export_write(export=export, target=target, destination=str(path))
            os.replace(scratch, path)
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise
        self.stdout.write(self.style.SUCCESS(f"Exported {rows} rows ({export.kind}, {export_format}) to {out}."))
