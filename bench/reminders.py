"""Benchmark of the reminder planner: how long one pass takes to cover a cycle of N open cases, all short of policy,
and how many escalation e-mails each HR person gets a day.

Run from the repository root against a database of its own (it is flushed and re-seeded unless --keep):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rc_bench_reminders python bench/reminders.py --cases 100000

Seeds the demo company with N employees (seed_demo, or reuses it with --keep), opens a promotion cycle with a case
for each, then times planner passes (`reminders_plan`, as beat runs it) on the day of the cycle's 7-day reminder
(every case is evaluated and gets its evidence-due reminder, written with its audit event: the cover time), again
the same day (nothing new), and on the day after the evidence deadline, twice (HR's daily digest lists the short
cases of the whole cycle and the items nobody reviewed; the second pass must write no second digest). Prints each
pass's seconds, statements and rows, and as its last line the verdict: the cover time against the beat interval
(REMINDERS_PLAN_EVERY) and the escalation e-mails per HR person that day against one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ritualcriteria.settings.test")  # settings as in CI: DEBUG off
# The broker the passes publish to: a throw-away file-system queue unless REDIS_URL says otherwise.
os.environ.setdefault("RC_DATA_DIR", tempfile.mkdtemp(prefix="rc-bench-reminders-"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.cases.constants import CycleStatus  # noqa: E402
from apps.cases.models import Cycle  # noqa: E402
from apps.cases.services import case_open_many  # noqa: E402
from apps.common.context import acting_as, system_actor  # noqa: E402
from apps.org.models import Employee  # noqa: E402
from apps.policies.models import RitualType  # noqa: E402
from apps.reminders.constants import ReminderKind  # noqa: E402
from apps.reminders.models import Reminder  # noqa: E402
from apps.reminders.services import PlanResult, reminders_plan  # noqa: E402

TARGET_CASES = 100_000


class _Statements:
    """Counts the statements a pass sends (Django's documented execute wrapper), the audit trail's inserts apart."""

    def __init__(self) -> None:
        self.total = 0
        self.audit = 0

    def __call__(self, execute, sql, params, many, context):
        self.total += 1
        self.audit += sql.lstrip().startswith('INSERT INTO "audit_event"')
        return execute(sql, params, many, context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=TARGET_CASES, help="open cases in the cycle (default 100000)")
    parser.add_argument("--keep", action="store_true", help="reuse the seeded company if the database has it")
    args = parser.parse_args()
    print(f"database: {connection.vendor}; python {platform.python_version()} on {platform.machine()}")
    print(
        f"settings: beat interval REMINDERS_PLAN_EVERY {settings.REMINDERS_PLAN_EVERY} s, chunk "
        f"REMINDERS_EVALUATE_BATCH {settings.REMINDERS_EVALUATE_BATCH:,}, REMINDERS_PLAN_BATCH "
        f"{settings.REMINDERS_PLAN_BATCH:,} rows a transaction"
    )

    with acting_as(system_actor("bench.reminders")):
        started = time.perf_counter()
        if not (args.keep and Employee.objects.count() >= args.cases):
            call_command("flush", interactive=False, verbosity=0)
            _restore_catalogue()
            call_command("seed_demo", employees=args.cases, verbosity=0)
        print(f"seed: {Employee.objects.count():,} employees in {time.perf_counter() - started:.1f} s")
        earlier = Cycle.objects.filter(name__startswith="Bench reminders")
        # Each run (--keep) lives 50 days after the one before: its occasions and HR's digest days are new.
        today = timezone.localdate() + dt.timedelta(days=50 * earlier.count())
        earlier.exclude(status=CycleStatus.CLOSED).audited_update(status=CycleStatus.CLOSED)
        people = list(Employee.objects.active().order_by("pk")[: args.cases])
        cycle = _cycle(f"Bench reminders {len(people):,}", people, today)

    # Noon UTC: the same calendar day everywhere from New York to Singapore, so every case's offset day is today.
    now = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    cover, _ = _pass(f"cover {len(people):,} open cases on their 7-day occasion", now)
    _pass("the next pass, nothing new", now + dt.timedelta(seconds=settings.REMINDERS_PLAN_EVERY))
    # The day after the evidence deadline (company time): HR's digest lists the whole cycle's short cases.
    after = dt.datetime.combine(cycle.evidence_deadline + dt.timedelta(days=1), dt.time(0, 5), tzinfo=dt.UTC)
    escalated, result = _pass("the day after the deadline: HR's digest", after)
    listed = [c for r in result.created for c in r.context.get("cycles", []) if c["id"] == cycle.pk]
    summary = listed[0] if listed else {"short_count": 0}
    print(f"  HR's digest lists {summary['short_count']:,} short cases of the cycle")
    _pass("the same day, a second pass", after + dt.timedelta(hours=6))
    day = timezone.localdate(after).isoformat()
    per_person = Counter(
        Reminder.objects.filter(kind=ReminderKind.ESCALATION, occasion=day).values_list("recipient_user_id", flat=True)
    )
    old_style = Reminder.objects.filter(kind=ReminderKind.ESCALATION, created_at__gte=after).exclude(occasion=day)
    per_day = max(per_person.values(), default=0) + old_style.count()
    print(f"escalation e-mails on {day}: {dict(Counter(per_person.values()))} (e-mails per HR person: people)")

    worst = max(cover, escalated)
    beat = settings.REMINDERS_PLAN_EVERY
    met = worst <= beat and per_day == 1 and len(people) >= TARGET_CASES
    print(
        f"reminders: cover {worst:.1f} s for {len(people):,} cases (target <= beat interval {beat} s), "
        f"escalations per HR user per day {per_day} (target 1) {'met' if met else 'missed'}"
    )


def _cycle(name: str, people: list[Employee], today: dt.date) -> Cycle:
    """An open promotion cycle whose 7-day reminder is due `today`, with a case for each person."""
    cycle = Cycle.objects.create(
        ritual_type=RitualType.objects.get(code="promotion"),
        name=f"{name} {time.strftime('%Y%m%d-%H%M%S')}",
        opens_on=today - dt.timedelta(days=10),
        evidence_deadline=today + dt.timedelta(days=7),
        decision_deadline=today + dt.timedelta(days=40),
        reminder_offsets=[7],
    )
    started = time.perf_counter()
    case_open_many(cycle=cycle, subjects=[{"subject_employee": p} for p in people], today=today - dt.timedelta(days=9))
    print(f"open: {len(people):,} cases in {time.perf_counter() - started:.1f} s")
    return cycle


def _pass(label: str, now: dt.datetime) -> tuple[float, PlanResult]:
    statements = _Statements()
    with acting_as(system_actor("bench.reminders")), connection.execute_wrapper(statements):
        started = time.perf_counter()
        result = reminders_plan(now=now, keep_rows=False)
        seconds = time.perf_counter() - started
    kinds = ", ".join(f"{kind} {n:,}" for kind, n in sorted(result.by_kind.items())) or "none"
    print(
        f"pass, {label}: {seconds:6.1f} s; {statements.total - statements.audit:,} statements "
        f"+ {statements.audit:,} audit-trail inserts; reminders created: {kinds}; {result.published:,} handed over"
    )
    if result.by_kind.get(ReminderKind.ESCALATION):
        result.created = list(Reminder.objects.filter(kind=ReminderKind.ESCALATION, created_at=now))
    return seconds, result


def _restore_catalogue() -> None:
    """flush empties the rows the data migrations created; put them back."""
    import importlib

    from django.apps import apps

    importlib.import_module("apps.policies.migrations.0002_builtin_rituals_and_categories").create(apps, None)


if __name__ == "__main__":
    main()
