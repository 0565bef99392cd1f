"""Benchmark of cases: open a whole cycle of cases, then evaluate every case's checklist in bulk.

Run from the repository root against a database of its own (it is flushed and re-seeded):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rc_bench python bench/cases.py --cases 100000

Prints the seconds to seed, to open the cases and to evaluate the cycle, cases per second, and the number of
queries each phase took; the target is a query count that does not grow with the number of cases and at least
5,000 evaluated cases per second on PostgreSQL. The last line is the verdict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ritualcriteria.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.cases.models import Cycle  # noqa: E402
from apps.cases.selectors import cycle_checklists  # noqa: E402
from apps.cases.services import case_open_many  # noqa: E402
from apps.common.context import acting_as, system_actor  # noqa: E402
from apps.org.models import Employee  # noqa: E402
from apps.policies.models import RitualType  # noqa: E402

TARGET_PER_SECOND = 5_000


class QueryCounter:
    """Counts statements sent to the database (CaptureQueriesContext stops counting after 9,000 logged)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self) -> QueryCounter:
        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._wrapper.__exit__(*exc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases to open and evaluate (default 100000)")
    parser.add_argument("--keep", action="store_true", help="reuse the seeded data if the database has it")
    args = parser.parse_args()
    print(f"database: {connection.vendor}; python {platform.python_version()} on {platform.machine()}")

    with acting_as(system_actor("bench.cases")):
        started = time.perf_counter()
        if not (args.keep and Employee.objects.count() >= args.cases):
            call_command("flush", interactive=False, verbosity=0)
            _restore_catalogue()
            call_command("seed_demo", employees=args.cases, verbosity=0)
        seeded = time.perf_counter() - started
        print(f"seed: {Employee.objects.count():,} employees in {seeded:.1f} s")

        today = dt.date.today()
        ritual = RitualType.objects.get(code="promotion")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        cycle = Cycle.objects.create(
            ritual_type=ritual,
            name=f"Bench cycle {stamp}",
            opens_on=today - dt.timedelta(days=10),
            evidence_deadline=today + dt.timedelta(days=20),
            decision_deadline=today + dt.timedelta(days=40),
        )
        people = list(Employee.objects.active().order_by("pk")[: args.cases])
        with QueryCounter() as opening:
            started = time.perf_counter()
            case_open_many(cycle=cycle, subjects=[{"subject_employee": p} for p in people])
            opened = time.perf_counter() - started
        print(f"open: {len(people):,} cases in {opened:.1f} s ({len(people) / opened:,.0f} cases/s)")

    figures = []  # (cases, seconds, queries) per cycle evaluated, smallest first
    for size in sorted({min(1000, len(people)), len(people)}):
        if size < len(people):
            # Evaluate a smaller cycle with the same data to show the query count does not grow.
            small = Cycle.objects.create(
                ritual_type=ritual, name=f"Bench cycle {stamp} ({size})", opens_on=cycle.opens_on,
                evidence_deadline=cycle.evidence_deadline, decision_deadline=cycle.decision_deadline,
            )  # fmt: skip
            with acting_as(system_actor("bench.cases")):
                case_open_many(cycle=small, subjects=[{"subject_employee": p} for p in people[:size]])
            target = small
        else:
            target = cycle
        with QueryCounter() as evaluating:
            started = time.perf_counter()
            evaluations = cycle_checklists(cycle_id=target.pk, today=today)
            seconds = time.perf_counter() - started
        compliant = sum(1 for e in evaluations.values() if e.compliant)
        rate = len(evaluations) / seconds
        figures.append((len(evaluations), seconds, evaluating.count))
        print(
            f"evaluate {len(evaluations):>7,} cases: {seconds:6.2f} s, {rate:8,.0f} cases/s, "
            f"{evaluating.count} queries, {compliant:,} compliant; "
            f"ratio to target {rate / TARGET_PER_SECOND:.2f}"
        )
    print(f"opening queries: {opening.count} for {len(people):,} cases")
    cases, seconds, queries = figures[-1]
    rate = cases / seconds
    flat = len({count for _, _, count in figures}) == 1
    counts = " and ".join(f"{count} for {n:,}" for n, _, count in figures)
    verdict = "met" if rate >= TARGET_PER_SECOND and flat else "missed"
    print(
        f"cases: cycle evaluation {rate:,.0f} cases/s ({cases:,} cases in {seconds:.2f} s), queries {counts}, "
        f"load {os.getloadavg()[0]:.1f} (target >= {TARGET_PER_SECOND:,} cases/s, queries flat) {verdict}"
    )


def _restore_catalogue() -> None:
    """flush empties the rows the data migrations created; put them back."""
    import importlib

    from django.apps import apps

    importlib.import_module("apps.policies.migrations.0002_builtin_rituals_and_categories").create(apps, None)


if __name__ == "__main__":
    main()
