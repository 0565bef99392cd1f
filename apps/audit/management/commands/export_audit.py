"""Export audit events of a date range as CSV; the export is itself audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.checkpoints import ChainDoesNotExtendCheckpoint, CheckpointError, write_checkpoint
from apps.audit.sealer import audit_seal_pending
from apps.audit.selectors import audit_event_list
from apps.audit.services import audit_export_csv


def _date(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date written YYYY-MM-DD (e.g. 2026-01-31), not {value!r}.") from None


class Command(BaseCommand):
    help = "Write the audit events that occurred between two dates (both included, TIME_ZONE days) to a CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="First day, YYYY-MM-DD (default: the first event).")
        parser.add_argument("--until", help="Last day, YYYY-MM-DD (default: today).")
        parser.add_argument("--out", required=True, help="File to write, or '-' for standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        since, until = _date("--since", options["since"]), _date("--until", options["until"])
        if since and until and since > until:
            raise CommandError("--since must not be after --until.")
        out = options["out"]
        filters = {"since": options["since"], "until": options["until"]}
        events = audit_event_list(since=since, until=until)
        if out == "-":
            _, lines = audit_export_csv(events=events, filters=filters, destination="standard output")
            for line in lines:
                self.stdout.write(line, ending="")
            self._checkpoint()
            return
        try:
            stream = open(out, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror}.") from exc
        with stream:
            rows, lines = audit_export_csv(events=events, filters=filters, destination=out)
            stream.writelines(lines)
        self.stdout.write(self.style.SUCCESS(f"Exported {rows} audit events to {out}."))
        self._checkpoint()

    def _checkpoint(self) -> None:
        """Seal the export's own event and write a checkpoint that covers it (docs/audit.md)."""
        audit_seal_pending()
        try:
            write_checkpoint(reason="export", force=True)
        except (ChainDoesNotExtendCheckpoint, CheckpointError) as exc:
            self.stderr.write(f"Exported, but no checkpoint was written: {exc}. Run `manage.py verify_audit`.")
