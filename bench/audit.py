"""Benchmark of the audit trail: saving evidence items with automatic capture on, as a ratio to capture off.

Run from the repository root: `python bench/audit.py [--items N] [--chunk N] [--floor]`. It uses the embedded SQLite
database as `make run` configures it (WAL, file on disk) in a temporary folder, or DATABASE_URL's server (a
`test_`-prefixed copy of it) when that is set.
"Off" disconnects the capture's receivers for the benchmark only; the product has no such switch.
`--floor` (PostgreSQL): "on" captures as usual but writes each transaction's events as one plain multi-row INSERT
into a copy of the table without its trigger: no lock, no head, no hashes. No design that writes the events in
the transaction of the change they describe does less, so its ratio is the least any such trail can cost.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

# Run as a plain script from the repo root without installing the project.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ritualcriteria.settings.test")  # settings as in CI
os.environ.setdefault("RC_DATA_DIR", tempfile.mkdtemp(prefix="rc-bench-audit-"))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.db.models.signals import post_save, pre_save  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from proc_cpu import database_server_cpu  # noqa: E402 - bench/proc_cpu.py

TARGET_RATIO = 1.5


@contextlib.contextmanager
def auditing_off(model: type[models.Model]) -> Iterator[None]:
    """Disconnect the capture from `model` for the duration (benchmark baseline only)."""
    from apps.audit import capture

    uid = f"audit:{model._meta.label_lower}"
    audited_save_base = model.__dict__.get("save_base")
    pre_save.disconnect(sender=model, dispatch_uid=uid)
    post_save.disconnect(sender=model, dispatch_uid=uid)
    if audited_save_base is not None:
        del model.save_base
    try:
        yield
    finally:
        pre_save.connect(capture._before_save, sender=model, weak=False, dispatch_uid=uid)
        post_save.connect(capture._after_save, sender=model, weak=False, dispatch_uid=uid)
        if audited_save_base is not None:
            model.save_base = audited_save_base


@contextlib.contextmanager
def floor_append() -> Iterator[None]:
    """Write events as plain rows of a trigger-less copy of the trail's table (PostgreSQL; see --floor)."""
    import itertools

    from apps.audit import chain

    numbers = itertools.count(_floor_rows() + 1)
    columns = "sequence, occurred_at, actor_user_id, actor_name, actor_ip, request_id, action, object_type, "
    columns += "object_id, object_repr, changes, context, prev_hash, hash"
    insert = f"INSERT INTO bench_audit_floor ({columns}) VALUES ".encode()  # noqa: S608 - constant text
    unchained = b"'" + b"0" * 64 + b"'"  # in place of both hashes

    def write_plainly(connection, events, parts, *, then_commit=False):  # type: ignore[no-untyped-def]
        # As the product's direct path sends its append: libpq's quoting, one string, chain.run_via_libpq.
        raw, escaping = chain._libpq_direct(connection)
        rows = []
        for event, part in zip(events, parts, strict=True):
            v = event.__dict__
            values = [next(numbers), chain.json_safe(v["occurred_at"]), v["actor_user_id"], v["actor_name"]]
            values += [v["actor_ip"], v["request_id"], v["action"], v["object_type"], v["object_id"]]
            values += [v["object_repr"], part.changes, part.context]
            rows.append(b"(" + b", ".join(chain._literal(escaping, value) for value in values))
        query = insert + b", ".join(row + b", " + unchained + b", " + unchained + b")" for row in rows)
        chain.run_via_libpq(connection, raw, query, then_commit=then_commit)
        for event in events:
            event._state.adding = False

    product = chain._write_postgresql
    chain._write_postgresql = write_plainly
    try:
        yield
    finally:
        chain._write_postgresql = product


def _floor_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_audit_floor (LIKE audit_auditevent INCLUDING ALL)")
        cursor.execute("SELECT count(*) FROM bench_audit_floor")
        return cursor.fetchone()[0]


def _items(n: int, owner, category, offset: int) -> Iterator[models.Model]:  # type: ignore[no-untyped-def]
    from apps.evidence.models import Evidence

    for i in range(n):
        yield Evidence(
            owner=owner,
            category=category,
            title=f"Faster check-in for late arrivals #{offset + i}",
            customer_quote="I waited forty minutes at midnight.",
            source_type="support_ticket",
            source_reference=f"TCK-{offset + i}",
            interpretation="Night arrivals were served by one person.",
            response="Self check-in kiosk at night.",
            metric_name="Median night check-in time",
            metric_kind="operational",
            baseline="38.5",
            result="6.25",
            metric_unit="minutes",
            direction="decrease",
            metric_period="Q1 vs Q3",
            impact_date=dt.date(2026, 10, 1),
        )


def _clock() -> tuple[float, float]:
    # CPU time of this process plus, on PostgreSQL, of its server process: the work done, whatever else the
    # machine runs (wall time on a shared 2-core box mostly measures waiting for a core). Wall time beside it.
    return time.process_time() + database_server_cpu(connection), time.perf_counter()


def _save_each(items: list[models.Model], per_transaction: int) -> tuple[float, float]:
    """Save every item, `per_transaction` saves to a transaction (0: bare saves outside any transaction).

    Return (CPU seconds, wall seconds).
    """
    cpu, wall = _clock()
    if per_transaction == 0:
        for item in items:
            item.save()
    else:
        for first in range(0, len(items), per_transaction):
            with transaction.atomic():
                for item in items[first : first + per_transaction]:
                    item.save()
    cpu_end, wall_end = _clock()
    return cpu_end - cpu, wall_end - wall


def _interleaved(owner, category, items: int, chunk: int, per_transaction: int, offset: int):  # type: ignore[no-untyped-def]
    """Save `items` items with capture off and as many with it on, in alternating chunks (off-on, then on-off).

    Return ((CPU off, CPU on), (wall off, wall on), the on/off CPU ratio of each pair of chunks, next offset).
    Alternating chunks of a second or less spread whatever else the machine does over both sides alike.
    """
    from apps.evidence.models import Evidence

    cpu, wall, ratios = [0.0, 0.0], [0.0, 0.0], []
    # One unmeasured chunk each way first: the first saves of a mode fill Django's caches and the database's.
    with auditing_off(Evidence):
        _save_each(list(_items(chunk, owner, category, offset)), per_transaction)
    _save_each(list(_items(chunk, owner, category, offset + chunk)), per_transaction)
    offset += 2 * chunk
    for pair in range(max(1, items // chunk)):
        pair_cpu = [0.0, 0.0]
        for audited in (False, True) if pair % 2 == 0 else (True, False):
            batch = list(_items(chunk, owner, category, offset))
            offset += chunk
            if audited:
                spent_cpu, spent_wall = _save_each(batch, per_transaction)
            else:
                with auditing_off(Evidence):
                    spent_cpu, spent_wall = _save_each(batch, per_transaction)
            cpu[audited] += spent_cpu
            wall[audited] += spent_wall
            pair_cpu[audited] = spent_cpu
        ratios.append(pair_cpu[1] / pair_cpu[0])
    return tuple(cpu), tuple(wall), ratios, offset


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# (label, saves per transaction, judged against the target). Every write path of the product is a service
# that runs in a transaction: those are the judged modes. A bare save() outside any transaction is shown for
# completeness: there the capture opens the transaction the save and its event need, so its "on" column also
# pays for a BEGIN and COMMIT that "off" (autocommit) does without.
MODES = (
    ("1 save per transaction", 1, True),
    ("100 saves per transaction", 100, True),
    ("bare save(), autocommit", 0, False),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=500, help="items a chunk (a multiple of 100; default 500)")
    parser.add_argument("--floor", action="store_true", help="on: events as plain rows, unchained (PostgreSQL)")
    args = parser.parse_args()
    if args.floor and connection.vendor != "postgresql":
        parser.error("--floor needs PostgreSQL (DATABASE_URL)")
    if args.chunk <= 0 or args.chunk % 100 or args.items < args.chunk:
        parser.error("--chunk must be a positive multiple of 100, and --items at least one chunk")

    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0)  # the file database in the temporary RC_DATA_DIR
        old_config = None
    else:
        old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        from apps.audit.models import AuditEvent
        from apps.org.models import Employee, OrgUnit
        from apps.policies.models import EvidenceCategory

        unit = OrgUnit.objects.create(name="Front Desk", code="front-desk")
        owner = Employee.objects.create(
            employee_number="E1",
            full_name="Dana Okafor",
            email="dana@example.com",
            org_unit=unit,
            job_function="support",
        )
        category = EvidenceCategory.objects.order_by("pk").first() or EvidenceCategory.objects.create(
            code="customer_story", name="Customer story", kind="story"
        )
        cpu = "CPU of this process" + (" and its PostgreSQL server process" if connection.vendor != "sqlite" else "")
        python = platform.python_version()
        print(f"audit bench: {args.items} evidence items, {connection.vendor}, Python {python}; load {_load()}")
        print(
            f"judged on {cpu}: all {args.items} saves on over all {args.items} off, in {args.items // args.chunk} "
            f"pairs of {args.chunk}-item chunks, off and on alternating (the pairs' own ratios beside it)"
        )
        if args.floor:
            print("--floor: 'on' writes the events as plain rows, without the chain (the least any trail costs)")
        print(
            f"{'mode':<28}{'CPU off':>9}{'CPU on':>9}{'ratio':>7}{'pairs: median':>15}{'min':>6}{'max':>6}"
            f"{'wall off':>10}{'wall on':>9}{'ratio':>7}"
        )
        worst = 0.0
        offset = 0
        events = _floor_rows if args.floor else AuditEvent.objects.count
        for label, per_transaction, judged in MODES:
            before = events()
            with floor_append() if args.floor else contextlib.nullcontext():
                (off, on), (wall_off, wall_on), ratios, offset = _interleaved(
                    owner, category, args.items, args.chunk, per_transaction, offset
                )
            # One event per audited save (the measured chunks and the warm-up chunk).
            assert events() - before == (len(ratios) + 1) * args.chunk  # noqa: S101
            ratio = on / off
            if judged:
                worst = max(worst, ratio)
            note = "" if judged else "  (not judged: see MODES)"
            print(
                f"{label:<28}{off:>9.2f}{on:>9.2f}{ratio:>7.2f}{statistics.median(ratios):>15.2f}{min(ratios):>6.2f}"
                f"{max(ratios):>6.2f}{wall_off:>10.2f}{wall_on:>9.2f}{wall_on / wall_off:>7.2f}{note}"
            )
        from apps.audit.selectors import audit_chain_verify

        start = time.perf_counter()
        report = audit_chain_verify()
        elapsed = time.perf_counter() - start
        print(f"verify_audit over {report.count} events: {elapsed:.2f} s ({report.count / elapsed:,.0f} events/s)")
        verdict = "meets" if worst <= TARGET_RATIO else "MISSES"
        what = "the floor's worst judged ratio" if args.floor else "worst judged ratio"
        print(f"{what} {worst:.2f} {verdict} the target of {TARGET_RATIO}; load {_load()}")
        return 0 if worst <= TARGET_RATIO else 1
    finally:
        if old_config is not None:
            teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
