"""`manage.py reminders`: run a planner pass and a sweep now, or (--dry-run) list what they would do and why."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.common.context import acting_as, system_actor
from apps.reminders.selectors import reminders_dry_run
from apps.reminders.services import reminders_plan, reminders_sweep
from apps.reminders.timing import zone


class Command(BaseCommand):
    help = (
        "Plan reminders now and hand the due ones to the Celery broker (what beat does every few minutes). "
        "With --dry-run, write nothing: list the reminders that would be created, when each would go out and why, "
        "and the pending ones due to be sent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be sent, and why; write nothing.")
        parser.add_argument(
            "--at", default=None, help="Pretend it is this instant (ISO 8601, e.g. 2026-12-01T09:00:00+01:00)."
        )

    def handle(self, *args, **options):
        now = self._now(options["at"])
        if options["dry_run"]:
            self._dry_run(now)
            return
        with acting_as(system_actor("reminders command")):
            planned = reminders_plan(now=now, keep_rows=False)
            swept = reminders_sweep(now=now)
        self.stdout.write(
            f"Planner: {planned.counts['created']} reminder(s) created, {planned.published} handed to the broker "
            "(the sweeper hands over the rest). "
            f"Sweeper: {swept.drained} queued evidence event(s) drained, {swept.published} handed over again, "
            f"{swept.recovered} send(s) of a stopped worker taken back to be sent again, "
            f"{swept.uncertain} left possibly sent for HR to check."
        )

    def _now(self, raw: str | None) -> dt.datetime:
        if not raw:
            return timezone.now()
        value = parse_datetime(raw)
        if value is None:
            raise CommandError(f"--at {raw!r} is not an ISO 8601 date and time.")
        return value if timezone.is_aware(value) else timezone.make_aware(value)

    def _dry_run(self, now: dt.datetime) -> None:
        result = reminders_dry_run(now=now)
        write = self.stdout.write
        write(f"Dry run at {now:%Y-%m-%d %H:%M %Z}: nothing is written or sent.")
        due_now = [p for p in result.planned if p.due_at <= now and not p.cancelled]
        later = [p for p in result.planned if p.due_at > now and not p.cancelled]
        recorded = [p for p in result.planned if p.cancelled]
        write(f"\nWould be sent now ({len(due_now)}):")
        for item in due_now:
            write(f"  {item.kind:<17} to {item.recipient.name} <{item.recipient.email}>: {item.reason}")
            for unmet in item.context.get("unmet", []):
                write(f"      missing: {unmet['label']} ({unmet['have']} of {unmet['need']})")
        write(f"\nPlanned now, sent later within the recipient's sending hours ({len(later)}):")
        for item in later:
            local = item.due_at.astimezone(zone(item.recipient.timezone))
            write(
                f"  {item.kind:<17} to {item.recipient.name} <{item.recipient.email}> at "
                f"{local:%Y-%m-%d %H:%M} {item.recipient.timezone}: {item.reason}"
            )
        if recorded:
            write(f"\nOccasions recorded without mail ({len(recorded)}):")
            for item in recorded:
                write(f"  {item.kind:<17} {item.reason}: {item.cancelled}")
        pending = result.due_pending
        write(f"\nAlready planned, pending and due: the sweeper would hand these to the broker ({len(pending)}):")
        for reminder in result.due_pending:
            write(f"  {reminder.kind:<17} to {reminder.recipient_name} <{reminder.to_email}>: {reminder.reason}")
