"""Benchmark of the case-detail export on PostgreSQL at the size of a large company.

Run from the repository root against a database of its own (it is flushed and re-seeded):

    createdb -h 127.0.0.1 -U postgres rc_bench_export
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rc_bench_export python bench/export.py

Seeding: `seed_demo` builds the org, policies, people and logins (300 employees, through the ORM and the audit
trail); the bench then bulk-loads the rest with PostgreSQL's COPY FROM STDIN, bypassing the ORM and the audit trail:
100,000 more employees, 1,000,000 evidence items (about 10 each, every status, 3% with gaming flags) and 100,000
promotion cases over four cycles (three decided, with frozen evaluations, exceptions and every decision status; the
current one open). Seeding 100k cases and 1M items through seed_demo would take hours on a 2-core machine.

Then, in the same run:
1. PostgreSQL's own `COPY (<the export's case query>) TO STDOUT WITH CSV`, the floor any export is measured against;
2. the case-detail CSV export, in a fresh process (rows/s, its query count, the process's peak memory);
3. the same as XLSX;
4. the export of one small unit, to show the query count does not depend on the rows;
5. every dashboard report over the 100k cases (seconds and queries each).
Targets (issue 7): CSV throughput at least a third of COPY's, peak memory under 200 MB, a constant query count.
The last line is the verdict. COPY and the bulk loads go through a psycopg connection of their own (psycopg's
public API); queries are counted with Django's execute wrapper.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ritualcriteria.settings.local")

import django  # noqa: E402
import psycopg  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.cases.models import Case, Cycle  # noqa: E402
from apps.common.context import acting_as, system_actor  # noqa: E402
from apps.org.models import Employee, OrgUnit  # noqa: E402
from apps.policies.models import EvidenceCategory, RitualType  # noqa: E402
from apps.policies.selectors import effective_policies_get  # noqa: E402
from apps.reports.filters import ReportFilters  # noqa: E402
from apps.reports.renderers import renderer_for  # noqa: E402
from apps.reports.selectors import reports_get  # noqa: E402
from apps.reports.tables import case_sections  # noqa: E402

SEED = 20261125
BENCH_PREFIX = "Bench promotions"
FIRST = ["Ann", "Bob", "Chen", "Dana", "Emeka", "Fatima", "Goran", "Hana", "Ivan", "Jia", "Kofi", "Lena", "Mateo"]
LAST = ["Archer", "Baker", "Cohen", "Diallo", "Evans", "Fernández", "Garcia", "Huang", "Ivanova", "Jensen", "Kim"]
STATUSES = ["verified"] * 65 + ["submitted"] * 10 + ["rejected"] * 10 + ["changes_requested"] * 5 + ["draft"] * 10
DECISIONS = ["approved"] * 60 + ["approved_with_exception"] * 10 + ["rejected"] * 25 + ["withdrawn"] * 5
JUSTIFICATION = "Led the night desk through the migration alone; the customer work was real but not written down."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases (and employees) to load (default 100000)")
    parser.add_argument("--evidence", type=int, default=1_000_000, help="evidence items to load (default 1000000)")
    parser.add_argument("--keep", action="store_true", help="reuse the loaded data if the database has it")
    parser.add_argument("--child", choices=["csv", "xlsx"], help=argparse.SUPPRESS)
    parser.add_argument("--unit", help=argparse.SUPPRESS)
    parser.add_argument("--cycle", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child, args.unit, args.cycle)
    if connection.vendor != "postgresql":
        sys.exit("bench/export.py compares with PostgreSQL's COPY: set DATABASE_URL to a PostgreSQL database.")
    print(f"database: PostgreSQL {_scalar('SHOW server_version')}; "
          f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")  # fmt: skip
    call_command("migrate", verbosity=0)
    if not (args.keep and Case.objects.filter(cycle__name__startswith=BENCH_PREFIX).count() >= args.cases):
        started = time.perf_counter()
        _seed(args.cases, args.evidence)
        print(f"seed: {time.perf_counter() - started:.0f} s")
    cases = Case.objects.count()
    evidence_count = _scalar("SELECT count(*) FROM evidence_evidence")
    print(f"data: {cases:,} cases, {evidence_count:,} evidence items, {Employee.objects.count():,} employees; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip

    print("All 100k cases (a quarter open: each open case is judged live by the policy engine):")
    copy_rows, copy_seconds, copy_bytes = _copy_baseline(ReportFilters())
    copy_rate = copy_rows / copy_seconds
    print(f"  COPY (case query) TO STDOUT WITH CSV: {copy_rows:,} rows in {copy_seconds:.2f} s = {copy_rate:,.0f} "
          f"rows/s ({copy_bytes / 1e6:.0f} MB)")  # fmt: skip
    results = {}
    for export_format in ("csv", "xlsx"):
        results[export_format] = result = _run_child(export_format)
        _print_export(f"export {export_format}", result, copy_rate if export_format == "csv" else None)

    decided = Cycle.objects.filter(name__startswith=BENCH_PREFIX, status="closed").order_by("-opens_on").first()
    print(f"One decided cycle ({decided.name}: frozen evaluations only, nothing to evaluate):")
    rows, seconds, _ = _copy_baseline(ReportFilters(cycle_id=decided.pk))
    print(f"  COPY (case query) TO STDOUT WITH CSV: {rows:,} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s")
    _print_export("export csv", _run_child("csv", cycle=decided.pk), rows / seconds)

    current = Cycle.objects.filter(name__startswith=BENCH_PREFIX, status="open").first()
    print(f"The open cycle ({current.name}: every case judged live, as of today):")
    rows, seconds, _ = _copy_baseline(ReportFilters(cycle_id=current.pk))
    print(f"  COPY (case query) TO STDOUT WITH CSV: {rows:,} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s")
    _print_export("export csv", _run_child("csv", cycle=current.pk), rows / seconds)

    small_unit = (
        Case.objects.values("policy_unit__code").order_by().annotate(n=django.db.models.Count("pk")).order_by("n")
    )[0]
    small = _run_child("csv", unit=small_unit["policy_unit__code"])
    print(
        f"Query count: export of one unit ({small_unit['policy_unit__code']}, {small['rows']:,} rows) "
        f"{small['queries']} queries; of all {results['csv']['rows']:,} rows {results['csv']['queries']} queries"
    )
    print(f"Peak memory of the CSV export process: {results['csv']['peak_mb']:.0f} MB (target < 200)")
    _dashboard()
    csv = results["csv"]
    ratio = csv["rows"] / csv["seconds"] / copy_rate
    flat = small["queries"] == csv["queries"]
    met = ratio >= 1 / 3 and csv["peak_mb"] < 200 and flat
    print(
        f"export: CSV {ratio:.2f} of COPY's rate ({csv['rows']:,} rows in {csv['seconds']:.1f} s), peak "
        f"{csv['peak_mb']:.0f} MB, {csv['queries']} queries for all rows and {small['queries']} for one unit, "
        f"load {os.getloadavg()[0]:.1f} (target >= 0.33 of COPY, < 200 MB, queries flat) {'met' if met else 'missed'}"
    )


def _print_export(label: str, result: dict, copy_rate: float | None) -> None:
    rate = result["rows"] / result["seconds"]
    ratio = f", {rate / copy_rate:.2f} of COPY's rate (target >= 0.33)" if copy_rate else ""
    print(f"  {label}: {result['rows']:,} rows in {result['seconds']:.2f} s = {rate:,.0f} rows/s{ratio}; "
          f"{result['queries']} queries; peak RSS {result['peak_mb']:.0f} MB "
          f"(+{result['peak_mb'] - result['start_mb']:.0f} MB over a started Django process); "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def _scalar(sql: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


class QueryLog:
    """Statements sent through Django's connection while active (a documented execute wrapper); fetching from a
    server-side cursor is not a statement."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.statements.append((sql, params))
        return execute(sql, params, many, context)

    def __enter__(self) -> QueryLog:
        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._wrapper.__exit__(*exc)


def _case_query(filters: ReportFilters) -> tuple[str, Any]:
    """The SQL and parameters of the export's case stream (what the CSV renderer reads): the first SELECT its rows
    send, caught on the way by the execute wrapper."""
    detail = reports_get(filters=filters, today=timezone.localdate()).case_detail()
    with QueryLog() as log:
        rows = detail.rows()
        next(rows, None)
        rows.close()
    return next((sql, params) for sql, params in log.statements if sql.lstrip().upper().startswith("SELECT"))


def _copy_baseline(filters: ReportFilters) -> tuple[int, float, int]:
    """Best of two runs of COPY (<case query>) TO STDOUT WITH CSV, read to the end by the client."""
    query, params = _case_query(filters)
    best = None
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        for _ in range(2):
            rows = size = 0
            started = time.perf_counter()
            with conn.cursor() as cursor:
                # COPY takes no server-side parameters: psycopg merges them into the statement on the client.
                with cursor.copy(f"COPY ({query}) TO STDOUT WITH CSV", params) as copy:  # noqa: S608 - our own query
                    for block in copy:
                        size += len(block)
                        rows += bytes(block).count(b"\n")
            seconds = time.perf_counter() - started
            if best is None or seconds < best[1]:
                best = (rows, seconds, size)
    return best


def _run_child(export_format: str, unit: str | None = None, cycle: int | None = None) -> dict:
    """Run one export in a fresh process, so its peak memory is its own."""
    command = [sys.executable, __file__, "--child", export_format]
    if unit:
        command += ["--unit", unit]
    if cycle:
        command += ["--cycle", str(cycle)]
    done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[1:])} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(export_format: str, unit: str | None, cycle: int | None) -> None:
    """The export itself: the case detail of every case (or one unit's, or one cycle's), written to /dev/null."""
    start_mb = _memory_mb("VmHWM")
    filters = ReportFilters(unit_id=OrgUnit.objects.get(code=unit).pk if unit else None, cycle_id=cycle)
    renderer = renderer_for(export_format)
    # CSV to /dev/null; XLSX needs a seekable file for its zip: a temporary file on disk (not memory).
    sink = open(os.devnull, "wb") if export_format == "csv" else tempfile.TemporaryFile()  # noqa: SIM115
    with QueryLog() as queries, sink:
        started = time.perf_counter()
        detail = reports_get(filters=filters, today=timezone.localdate()).case_detail()
        rows = renderer.write(case_sections(detail), sink)
        seconds = time.perf_counter() - started
    peak_mb = _memory_mb("VmHWM")
    print(json.dumps({"rows": rows, "seconds": seconds, "queries": len(queries.statements),
                      "peak_mb": peak_mb, "start_mb": start_mb}))  # fmt: skip


def _memory_mb(field: str) -> float:
    """A figure of /proc/self/status in MB. VmHWM is the process's peak resident memory; unlike getrusage's
    ru_maxrss it starts afresh at exec, so a child started by this (large) parent does not inherit its peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dashboard() -> None:
    """Every report over all the cases: seconds and queries each (the dashboard runs them all)."""
    reports = reports_get(filters=ReportFilters(), today=timezone.localdate())
    with QueryLog() as queries:
        reports.tree  # noqa: B018 - loads the org tree
    print(f"report tree: {len(queries.statements)} query")
    for name in ("compliance", "evidence_mix", "review_health", "boundary", "inventory", "unmet"):
        with QueryLog() as queries:
            started = time.perf_counter()
            getattr(reports, name)
            seconds = time.perf_counter() - started
        print(f"report {name}: {seconds:.2f} s, {len(queries.statements)} queries")


# Seeding -------------------------------------------------------------------------------------------------------


def _seed(cases: int, evidence: int) -> None:
    rng = random.Random(SEED)
    call_command("flush", interactive=False, verbosity=0)
    import importlib

    from django.apps import apps

    importlib.import_module("apps.policies.migrations.0002_builtin_rituals_and_categories").create(apps, None)
    with acting_as(system_actor("bench.export")):
        call_command("seed_demo", employees=300, verbosity=0)
    today = timezone.localdate()
    now = timezone.now()
    units = list(OrgUnit.objects.values_list("pk", "customer_layer"))
    hr_user = _scalar("SELECT id FROM auth_user WHERE username = 'hr'")
    reviewer = _scalar("SELECT id FROM auth_user WHERE username = 'reviewer'")

    started = time.perf_counter()
    columns = ("employee_number", "full_name", "email", "org_unit_id", "job_level", "job_function", "timezone",
               "active", "created_at", "updated_at")  # fmt: skip
    _copy("org_employee", columns, (
        (f"B{i:07d}", f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"bench{i}@example.com", rng.choice(units)[0],
         "professional", "support", "UTC", True, now, now)
        for i in range(cases)
    ))  # fmt: skip
    people = list(Employee.objects.filter(employee_number__startswith="B").values_list("pk", "org_unit_id"))
    print(f"  employees: {len(people):,} in {time.perf_counter() - started:.0f} s")

    started = time.perf_counter()
    categories = list(EvidenceCategory.objects.values_list("pk", "code"))
    unit_ids = [pk for pk, _ in units]
    columns = ("owner_id", "category_id", "title", "customer_quote", "source_type", "source_reference",
               "interpretation", "response", "metric_name", "metric_kind", "baseline", "result", "metric_unit",
               "direction", "metric_period", "customer_type", "internal_customer_unit_id", "impact_date", "status",
               "submitted_at", "reviewer_id", "review_comment", "reviewed_at", "gaming_flags", "flags_acknowledged",
               "version", "is_current", "created_at", "updated_at")  # fmt: skip
    flag = json.dumps([{"code": "score_solicitation", "reason": "Asks the customer for a score."}])

    def items():
        for i in range(evidence):
            owner = people[i % len(people)][0]
            category, code = rng.choice(categories)
            status = rng.choice(STATUSES)
            internal = rng.random() < 0.3
            metric = code == "operational_kpi"
            voice = code == "customer_voice"
            submitted = now - dt.timedelta(days=rng.randint(1, 400)) if status != "draft" else None
            reviewed = submitted + dt.timedelta(hours=rng.randint(1, 300)) if status not in ("draft", "submitted") \
                else None  # fmt: skip
            yield (
                owner, category, f"Customer improvement {i}", "I could not book a room." if voice else "",
                "interview" if voice else "", "Interview 2026-03" if voice else "", "What it meant.", "What we did.",
                "First-contact resolution" if metric else "", "operational" if metric else "",
                50 if metric else None, 60 if metric else None, "%" if metric else "", "increase" if metric else "",
                "Q1 vs Q3" if metric else "", "internal" if internal else "external",
                rng.choice(unit_ids) if internal else None, today - dt.timedelta(days=rng.randint(0, 500)), status,
                submitted, reviewer if reviewed else None, "", reviewed, flag if rng.random() < 0.03 else "[]",
                False, 1, True, now, now,
            )  # fmt: skip

    _copy("evidence_evidence", columns, items())
    print(f"  evidence: {evidence:,} in {time.perf_counter() - started:.0f} s")

    started = time.perf_counter()
    promotion = RitualType.objects.get(code="promotion")
    cycles = []
    for index, (name, months_ago) in enumerate((("2025-H1", 18), ("2025-H2", 12), ("2026-H1", 6), ("2026-H2", 1))):
        opens = today - dt.timedelta(days=30 * months_ago)
        is_open = index == 3
        cycles.append(Cycle.objects.create(
            ritual_type=promotion, name=f"{BENCH_PREFIX} {name}", opens_on=opens,
            evidence_deadline=today + dt.timedelta(days=20) if is_open else opens + dt.timedelta(days=60),
            decision_deadline=today + dt.timedelta(days=50) if is_open else opens + dt.timedelta(days=90),
            status="open" if is_open else "closed",
        ))  # fmt: skip
    policies = effective_policies_get(ritual_type_id=promotion.pk, org_unit_ids=unit_ids, as_of=today)
    columns = ("cycle_id", "subject_employee_id", "candidate_name", "candidate_email", "policy_unit_id",
               "opened_at", "opened_on", "status", "decided_at", "decision_note", "frozen_evaluation", "compliant",
               "evaluated_at", "updated_at")  # fmt: skip

    def case_rows():
        for i, (person, unit) in enumerate(people):
            cycle = cycles[i % 4]
            specs = policies[unit].specs
            if cycle.status == "open":
                compliant = rng.choice([True, False, False, None])
                yield (cycle.pk, person, "", "", unit, now, cycle.opens_on, "open", None, "", None, compliant,
                       now if compliant is not None else None, now)  # fmt: skip
                continue
            status = rng.choice(DECISIONS)
            results = [
                {"requirement_id": s.id, "kind": s.kind, "label": s.label, "have": 1, "need": 1, "counted_ids": [],
                 "reason": "", "weight": s.weight,
                 "met": status == "approved" or s.kind == "outcome_cap" or rng.random() < 0.6}
                for s in specs
            ]  # fmt: skip
            compliant = all(r["met"] for r in results)
            if status == "approved_with_exception" and compliant:
                results[0]["met"] = compliant = False
            frozen = {"as_of": cycle.evidence_deadline.isoformat(), "compliant": compliant, "score": 0.5,
                      "results": results}  # fmt: skip
            decided = dt.datetime.combine(cycle.decision_deadline, dt.time(12), tzinfo=dt.UTC)
            yield (cycle.pk, person, "", "", unit, now, cycle.opens_on, status, decided, "Decided.",
                   json.dumps(frozen), compliant, decided, now)  # fmt: skip

    _copy("cases_case", columns, case_rows())
    loaded = list(Case.objects.filter(cycle__in=cycles).values_list("pk", "policy_unit_id", "status", "opened_at"))
    _copy("cases_case_pinned_versions", ("case_id", "policyversion_id"), (
        (pk, version.pk) for pk, unit, _, _ in loaded for version in policies[unit].versions
    ))  # fmt: skip
    _copy("cases_policyexception", ("case_id", "justification", "status", "requested_by_id", "requested_at",
                                    "decided_by_id", "decided_at", "decision_note"), (
        (pk, JUSTIFICATION, "granted", hr_user, opened, hr_user, opened, "")
        for pk, _, status, opened in loaded if status == "approved_with_exception"
    ))  # fmt: skip
    print(f"  cases: {len(loaded):,} in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _copy(table: str, columns: tuple[str, ...], rows) -> None:  # type: ignore[no-untyped-def]
    """Load rows with COPY FROM STDIN on a connection of its own, committed at the end (bypasses the ORM and the
    audit trail: bench data only)."""
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # noqa: S608
            for row in rows:
                copy.write_row(row)


if __name__ == "__main__":
    main()
