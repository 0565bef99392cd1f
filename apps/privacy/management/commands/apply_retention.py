"""`manage.py apply_retention [--dry-run] [--date YYYY-MM-DD]`: the retention run (or its plan) from a shell."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.privacy.retention import apply_retention


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} is not a date: give it as YYYY-MM-DD, e.g. 2026-12-31.") from None


class Command(BaseCommand):
    help = "Remove the personal data the retention rules say is due (legal holds keep theirs); --dry-run lists it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List what would be removed; change nothing.")
        parser.add_argument("--date", help="Plan as of this day (YYYY-MM-DD) instead of today.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = _date(options["date"]) if options["date"] else timezone.localdate()
        result = apply_retention(today, dry_run=options["dry_run"])
        for item in result.removed:
            self.stdout.write(f"{'due' if result.dry_run else 'removed'}  {item.due_on:%Y-%m-%d}  {item.label}")
        for item in result.held:
            self.stdout.write(f"kept by legal hold #{item.held_by}  {item.label}")
        for item in result.disabled:
            self.stdout.write(f"kept (rule disabled)  {item.label}")
        self.stdout.write(self.style.SUCCESS(result.summary()))
