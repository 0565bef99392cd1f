"""Benchmark of the customer-insight stream: ingest of 100,000 insights through the API, and the per-unit monitor.

Run from the repository root against a database of its own (flushed and re-seeded unless --keep):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rc_insights .venv/bin/python bench/insights.py --keep

Builds 2,000 org units, 6 journey stages and 300 touchpoints (each owned by a unit) with a routing rule on every
touchpoint and on every stage (or reuses them with --keep), and a source system's service user with a token and
`insights.add_insight`. Then it sends N insights (default 100,000) to `POST /api/insights/ingest/` in batches of 1,000
with Django's test `Client` (token authentication, the CI settings), each row reaching two or three units (a
touchpoint rule, a stage rule, one in ten also naming a unit). Each batch's statements are counted
(`CaptureQueriesContext`): they must not grow with the batches (max − min ≤ 1: the score-phrase list is re-checked
by the clock, at most every 30 s, one statement). Every tenth batch is followed by the reference:
the same number of rows inserted with a plain `bulk_create` (no checks, routing or audit events) in a transaction
rolled back, so both share the machine's noise. A --keep run sends its insights under a new source system name, so
the database grows by N per run.

Then a third of the inbox rows are marked responded (1, 5 or 20 days after routing) and the per-unit monitor
(`apps.reports.selectors.insights.insight_monitor`, the whole company, no filter) is timed: median of 5 after a
warm-up, with its statement count.

Targets (issue 22): statements per batch flat (max − min ≤ 1); the report under 1 s. The last line is the verdict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ritualcriteria.settings.test")  # settings as in CI: DEBUG off
os.environ.setdefault("RC_DATA_DIR", tempfile.mkdtemp(prefix="rc-bench-insights-"))

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Permission, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from apps.common.context import acting_as, system_actor  # noqa: E402
from apps.insights.constants import INGEST_BATCH_MAX, Channel, InboxStatus  # noqa: E402
from apps.insights.models import Insight, InsightRoute, RoutingRule  # noqa: E402
from apps.org.models import JourneyStage, OrgUnit, Touchpoint  # noqa: E402

TARGET_INSIGHTS = 100_000
UNITS = 2_000
STAGES = 6
TOUCHPOINTS = 300
TARGET_REPORT_SECONDS = 1.0
REFERENCE_EVERY = 10
BOT = "bench-insights-bot"
WORDS = (
    "The invoice listed a room I never booked.",
    "Nobody called back about my refund.",
    "Checkout asked for my address three times.",
    "The onboarding call was clear and friendly.",
    "I waited forty minutes in the support chat.",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--insights", type=int, default=TARGET_INSIGHTS, help="insights to send (default 100000)")
    parser.add_argument("--keep", action="store_true", help="reuse the units, touchpoints and rules if present")
    args = parser.parse_args()
    print(f"database: {connection.vendor}; python {platform.python_version()} on {platform.machine()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")

    call_command("migrate", interactive=False, verbosity=0)
    with acting_as(system_actor("bench.insights")):
        started = time.perf_counter()
        if not (args.keep and OrgUnit.objects.count() >= UNITS and RoutingRule.objects.exists()):
            call_command("flush", interactive=False, verbosity=0)
            _seed()
            print(f"seed: {UNITS:,} units, {TOUCHPOINTS} touchpoints, rules in {time.perf_counter() - started:.1f} s")
        else:
            print(f"seed: reused ({OrgUnit.objects.count():,} units, {RoutingRule.objects.count():,} rules)")
        token = _token()

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    source_system = f"bench-{int(time.time())}"
    codes = _codes()
    rng = random.Random(22)
    batches = (args.insights + INGEST_BATCH_MAX - 1) // INGEST_BATCH_MAX
    statements: list[int] = []
    ingest_seconds = reference_seconds = 0.0
    reference_rows = 0
    for number in range(batches):
        size = min(INGEST_BATCH_MAX, args.insights - number * INGEST_BATCH_MAX)
        rows = [_row(rng, codes, f"{number}-{n}") for n in range(size)]
        body = json.dumps({"source_system": source_system, "insights": rows})
        with CaptureQueriesContext(connection) as queries:
            begun = time.perf_counter()
            response = client.post("/api/insights/ingest/", body, content_type="application/json", **headers)
            ingest_seconds += time.perf_counter() - begun
        if response.status_code != 200:
            raise SystemExit(f"batch {number}: {response.status_code} {response.content[:500]!r}")
        statements.append(len(queries))
        if number % REFERENCE_EVERY == 0:
            reference_seconds += _reference(rows, f"ref-{source_system}")
            reference_rows += size
        if number % 10 == 0 or number == batches - 1:
            done = min(args.insights, (number + 1) * INGEST_BATCH_MAX)
            print(f"  batch {number + 1}/{batches}: {done:,} sent, {len(queries)} statements", flush=True)

    rate = args.insights / ingest_seconds
    reference_rate = reference_rows / reference_seconds
    total = Insight.objects.count()
    print(
        f"ingest: {args.insights:,} insights in {ingest_seconds:.1f} s = {rate:,.0f}/s; reference (plain bulk_create, "
        f"no routing or audit) {reference_rate:,.0f}/s; statements per batch first {statements[0]}, last "
        f"{statements[-1]}, max {max(statements)}"
    )
    print(f"data: {total:,} insights, {InsightRoute.objects.count():,} inbox rows, {OrgUnit.objects.count():,} units")

    with acting_as(system_actor("bench.insights")):
        _respond_to_a_third()
    report_ms, report_statements = _report()
    print(f"load average at end: {os.getloadavg()[0]:.2f}")

    # Flat: the same statements for the hundredth batch as for the first, give or take the one statement that comes
    # and goes by the clock (the score-phrase list is re-checked at most every RECHECK_SECONDS).
    flat = max(statements) - min(statements) <= 1
    report_ok = report_ms is not None and report_ms < TARGET_REPORT_SECONDS * 1000
    met = flat and report_ok and total >= TARGET_INSIGHTS and OrgUnit.objects.count() >= UNITS
    report = f"report {report_ms:.0f} ms ({report_statements} stmts)" if report_ms is not None else "report n/a"
    print(
        f"insights: ingest {rate:,.0f}/s ({rate / reference_rate:.2f}× reference), queries per batch "
        f"{statements[0]}→{statements[-1]} (min {min(statements)}, max {max(statements)}), {report} "
        f"(target flat queries: max - min <= 1; report < 1 s) {'met' if met else 'missed'}"
    )


def _seed() -> None:
    """2,000 units in three customer layers, stages, touchpoints owned by units, a rule per touchpoint and stage."""
    OrgUnit.objects.bulk_create(
        OrgUnit(name=f"Unit {n:04d}", code=f"u{n:04d}", customer_layer=n % 3) for n in range(UNITS)
    )
    units = list(OrgUnit.objects.order_by("code"))
    JourneyStage.objects.bulk_create(JourneyStage(name=f"Stage {n}", code=f"stage-{n}", order=n) for n in range(STAGES))
    stages = list(JourneyStage.objects.order_by("order"))
    Touchpoint.objects.bulk_create(
        Touchpoint(name=f"Touchpoint {n}", code=f"tp-{n}", stage=stages[n % STAGES], owner_unit=units[n * 5])
        for n in range(TOUCHPOINTS)
    )
    touchpoints = list(Touchpoint.objects.order_by("code"))
    RoutingRule.objects.bulk_create(
        [RoutingRule(name=f"{tp.code} to {units[n * 6 + 1].code}", unit=units[n * 6 + 1], touchpoint=tp)
         for n, tp in enumerate(touchpoints)]
        + [RoutingRule(name=f"{stage.code} to {units[n * 7 + 2].code}", unit=units[n * 7 + 2], journey_stage=stage)
           for n, stage in enumerate(stages)]
    )  # fmt: skip


def _token() -> str:
    """The source system's service user (insights.add_insight) and its API token."""
    user, _ = User.objects.get_or_create(username=BOT)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="insights", codename="add_insight"))
    return Token.objects.get_or_create(user=user)[0].key


def _codes() -> dict[str, list[str]]:
    return {
        "touchpoints": list(Touchpoint.objects.values_list("code", flat=True)),
        "units": list(OrgUnit.objects.values_list("code", flat=True)),
    }


def _row(rng: random.Random, codes: dict[str, list[str]], source_id: str) -> dict[str, Any]:
    """One survey answer or support comment at a random touchpoint in the last year; one in ten names a unit."""
    row: dict[str, Any] = {
        "source_id": source_id,
        "said_on": str(timezone.localdate() - dt.timedelta(days=rng.randrange(365))),
        "channel": rng.choice((Channel.SURVEY, Channel.SUPPORT, Channel.REVIEW)),
        "touchpoint": rng.choice(codes["touchpoints"]),
    }
    if rng.random() < 0.85:
        row["text"] = rng.choice(WORDS)
    if rng.random() < 0.6 or "text" not in row:
        row["score"] = rng.randrange(0, 11)
    if rng.random() < 0.1:
        row["units"] = [rng.choice(codes["units"])]
    return row


class _Rollback(Exception):
    pass


def _reference(rows: list[dict[str, Any]], source_system: str) -> float:
    """Seconds to insert the same rows plainly (a stock QuerySet: no checks, routing or audit), rolled back."""
    touchpoints = dict(Touchpoint.objects.values_list("code", "pk"))
    plain: models.QuerySet[Insight] = models.QuerySet(Insight)
    begun = time.perf_counter()
    try:
        with transaction.atomic():
            plain.bulk_create(
                Insight(
                    source_system=source_system,
                    source_id=row["source_id"],
                    text=row.get("text", ""),
                    score=row.get("score"),
                    channel=row["channel"],
                    said_on=dt.date.fromisoformat(row["said_on"]),
                    touchpoint_id=touchpoints[row["touchpoint"]],
                )
                for row in rows
            )
            elapsed = time.perf_counter() - begun
            raise _Rollback
    except _Rollback:
        pass
    return elapsed


def _respond_to_a_third() -> None:
    """Mark a third of the open inbox rows responded today, routed 1, 5 or 20 days ago, so the medians have data."""
    open_ids = list(
        InsightRoute.objects.filter(status=InboxStatus.NEW, responded_at__isnull=True).values_list("pk", flat=True)
    )
    now = timezone.now()
    for days, part in ((1, 0), (5, 1), (20, 2)):
        ids = [pk for pk in open_ids if pk % 9 == part * 3]
        InsightRoute.objects.filter(pk__in=ids).audited_update(
            status=InboxStatus.RESPONDED, routed_at=now - dt.timedelta(days=days), responded_at=now, closed_at=now
        )


def _report() -> tuple[float | None, int]:
    """Median milliseconds of the per-unit monitor over the whole company, and its statements; None if absent."""
    try:
        from apps.reports.filters import ReportFilters
        from apps.reports.selectors.insights import insight_monitor
    except ImportError as exc:
        print(f"report: not available ({exc})")
        return None, 0
    with CaptureQueriesContext(connection) as queries:
        monitor = insight_monitor(filters=ReportFilters())
    times = []
    for _ in range(5):
        begun = time.perf_counter()
        insight_monitor(filters=ReportFilters())
        times.append(time.perf_counter() - begun)
    rows = getattr(monitor, "units", None) or getattr(monitor, "rows", None) or []
    median_ms = statistics.median(times) * 1000
    print(f"report: {len(rows):,} unit rows, median {median_ms:.0f} ms over {len(times)} runs, {len(queries)} stmts")
    return median_ms, len(queries)


if __name__ == "__main__":
    main()
