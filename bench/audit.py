"""Benchmark of the audit trail: evidence saves with automatic capture on, as ratios to the same saves with it off.

Run from the repository root: `python bench/audit.py [--items N] [--chunk N] [--writers N] [--seconds S]`. It uses
the embedded SQLite database as `make run` configures it (WAL, file on disk) in a temporary folder, or
DATABASE_URL's server (a `test_`-prefixed copy of it) when that is set.

1. Cost of a save (both databases): items saved in alternating chunks with capture off and on, one save per
   transaction and 100 per transaction, judged on the CPU of this process plus its PostgreSQL server process.
   Target: on/off at most 2.0 in both modes.
2. Concurrency (PostgreSQL): --writers processes each save items, one per transaction, for --seconds, with
   capture off, then on, then on and off again; a sealer process seals throughout as the worker would when
   kicked (every 0.5 s). Targets: audited throughput at least 0.5x unaudited (no lock serialises the writers), and the
   sealer's lag (sealed_at - occurred_at) p99 under 5 s in the "on" phases.

"Off" disconnects the capture's receivers in the bench's processes only; the product has no such switch.
The last line is the verdict: `audit: ... met` or `audit: ... missed`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Run as a plain script from the repo root without installing the project.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ritualcriteria.settings.test")  # settings as in CI
os.environ.setdefault("RC_DATA_DIR", tempfile.mkdtemp(prefix="rc-bench-audit-"))

TARGET_SAVE_RATIO = 2.0
TARGET_THROUGHPUT_RATIO = 0.5
TARGET_LAG_P99_SECONDS = 5.0


def _setup() -> None:
    import django

    django.setup()


@contextlib.contextmanager
def auditing_off() -> Iterator[None]:
    """Disconnect the capture's receivers for the duration (benchmark baseline only)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

    from apps.audit import capture

    pairs = (
        (pre_save, capture._before_save),
        (post_save, capture._after_save),
        (pre_delete, capture._before_delete),
        (post_delete, capture._after_delete),
        (m2m_changed, capture._m2m_changed),
    )
    for signal, _ in pairs:
        signal.disconnect(dispatch_uid="audit:capture")
    try:
        yield
    finally:
        for signal, receiver in pairs:
            signal.connect(receiver, weak=False, dispatch_uid="audit:capture")


def _items(n: int, owner: Any, category: Any, prefix: str) -> Iterator[Any]:
    from apps.evidence.models import Evidence

    for i in range(n):
        yield Evidence(
            owner=owner,
            category=category,
            title=f"Faster check-in for late arrivals {prefix}-{i}",
            customer_quote="I waited forty minutes at midnight.",
            source_type="support_ticket",
            source_reference=f"TCK-{prefix}-{i}",
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


def _clock() -> float:
    # CPU time of this process plus, on PostgreSQL, of its server process: the work done, whatever else the
    # machine runs (wall time on a shared 2-core box mostly measures waiting for a core).
    from django.db import connection
    from proc_cpu import database_server_cpu

    return time.process_time() + database_server_cpu(connection)


def _save_each(items: list[Any], per_transaction: int) -> float:
    from django.db import transaction

    start = _clock()
    for first in range(0, len(items), per_transaction):
        with transaction.atomic():
            for item in items[first : first + per_transaction]:
                item.save()
    return _clock() - start


def _cost_of_a_save(owner: Any, category: Any, items: int, chunk: int, per_transaction: int) -> tuple[float, list]:
    """Alternate off/on chunks (off-on, then on-off); return the on/off CPU ratio overall and per pair."""
    cpu, ratios, serial = [0.0, 0.0], [], 0
    for audited in (False, True):  # warm-up: the first saves of a mode fill Django's caches and the database's
        with contextlib.nullcontext() if audited else auditing_off():
            _save_each(list(_items(chunk, owner, category, f"w{per_transaction}{audited}")), per_transaction)
    for pair in range(max(1, items // chunk)):
        pair_cpu = [0.0, 0.0]
        for audited in (False, True) if pair % 2 == 0 else (True, False):
            serial += 1
            batch = list(_items(chunk, owner, category, f"s{per_transaction}-{serial}"))
            with contextlib.nullcontext() if audited else auditing_off():
                pair_cpu[audited] = _save_each(batch, per_transaction)
            cpu[audited] += pair_cpu[audited]
        ratios.append(pair_cpu[1] / pair_cpu[0])
    return cpu[1] / cpu[0], ratios


def _writer(database_url: str, audited: bool, seconds: float, tag: str, owner_id: int, category_id: int) -> int:
    """A writer process: save items one per transaction for `seconds`; return how many it saved."""
    os.environ["DATABASE_URL"] = database_url
    _setup()
    from django.db import connection, transaction

    from apps.evidence.models import Evidence
    from apps.org.models import Employee
    from apps.policies.models import EvidenceCategory

    owner, category = Employee.objects.get(pk=owner_id), EvidenceCategory.objects.get(pk=category_id)
    done = 0
    with contextlib.nullcontext() if audited else auditing_off():
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            (item,) = _items(1, owner, category, f"{tag}-{done}")
            with transaction.atomic():
                item.save()
            done += 1
    connection.close()
    assert isinstance(item, Evidence)  # noqa: S101
    return done


def _sealer(database_url: str, ready: Any, stop: Any) -> None:
    """The worker's part: seal every 0.5 s (the kick's interval), until told to stop and nothing is left."""
    os.environ["DATABASE_URL"] = database_url
    _setup()
    from django.db import connection

    from apps.audit.sealer import audit_seal_pending

    ready.set()
    while not stop.is_set():
        audit_seal_pending()
        time.sleep(0.5)
    audit_seal_pending()
    connection.close()


def _concurrency(database_url: str, writers: int, seconds: float, owner: Any, category: Any) -> dict[str, float]:
    from apps.audit.models import AuditEvent
    from apps.audit.sealer import audit_seal_pending

    audit_seal_pending()  # what part 1 wrote: the sealer starts with nothing behind it
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    ready, stop = manager.Event(), manager.Event()
    sealer = context.Process(target=_sealer, args=(database_url, ready, stop))
    sealer.start()
    ready.wait(60)
    saved = {False: 0, True: 0}
    lags: list[float] = []
    try:
        with context.Pool(writers) as pool:
            for round_ in range(2):
                for audited in (False, True) if round_ == 0 else (True, False):
                    first_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
                    args = [
                        (database_url, audited, seconds, f"c{round_}{audited}{n}", owner.pk, category.pk)
                        for n in range(writers)
                    ]
                    saved[audited] += sum(pool.starmap(_writer, args))
                    if audited:
                        written = AuditEvent.objects.filter(id__gt=first_event)
                        deadline = time.monotonic() + 60
                        while written.filter(seal__isnull=True).exists() and time.monotonic() < deadline:
                            time.sleep(0.2)
                        times = written.values_list("occurred_at", "seal__sealed_at")
                        lags.extend((sealed - occurred).total_seconds() for occurred, sealed in times if sealed)
    finally:
        stop.set()
        sealer.join(60)
    lags.sort()
    return {
        "off_per_s": saved[False] / (2 * seconds),
        "on_per_s": saved[True] / (2 * seconds),
        "ratio": saved[True] / saved[False],
        "lag_p99": lags[int(0.99 * (len(lags) - 1))] if lags else float("inf"),
        "lag_max": lags[-1] if lags else float("inf"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=4_000)
    parser.add_argument("--chunk", type=int, default=500, help="items a chunk (a multiple of 100; default 500)")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writer processes (PostgreSQL)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each concurrency phase")
    args = parser.parse_args()
    if args.chunk <= 0 or args.chunk % 100 or args.items < args.chunk:
        parser.error("--chunk must be a positive multiple of 100, and --items at least one chunk")
    _setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0)  # the file database in the temporary RC_DATA_DIR
        old_config = None
    else:
        old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        from apps.audit.sealer import audit_seal_pending
        from apps.audit.selectors import audit_chain_verify
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
        load = " ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"audit bench: {connection.vendor}, Python {platform.python_version()}, load {load}")
        print(f"1. cost of a save: {args.items} items a mode, {args.chunk}-item chunks off and on alternating")
        save_ratios = {}
        for per_transaction in (1, 100):
            ratio, pairs = _cost_of_a_save(owner, category, args.items, args.chunk, per_transaction)
            save_ratios[per_transaction] = ratio
            print(
                f"   {per_transaction:>3} save(s) a transaction: on/off CPU {ratio:.2f} "
                f"(pairs: median {statistics.median(pairs):.2f}, {min(pairs):.2f}-{max(pairs):.2f})"
            )
        figures = [f"save {save_ratios[1]:.2f}x", f"batch {save_ratios[100]:.2f}x"]
        met = max(save_ratios.values()) <= TARGET_SAVE_RATIO
        targets = [f"save <= {TARGET_SAVE_RATIO}x"]
        if connection.vendor == "postgresql":
            settings_db = connection.settings_dict
            url = f"postgres://{settings_db['USER']}@{settings_db['HOST']}:{settings_db['PORT']}/{settings_db['NAME']}"
            print(f"2. {args.writers} writer processes, {args.seconds:.0f} s a phase, off-on-on-off, a sealer beside")
            result = _concurrency(url, args.writers, args.seconds, owner, category)
            print(
                f"   saves/s off {result['off_per_s']:.0f}, on {result['on_per_s']:.0f}: ratio {result['ratio']:.2f}; "
                f"sealer lag p99 {result['lag_p99']:.2f} s, max {result['lag_max']:.2f} s"
            )
            figures += [f"{args.writers} writers {result['ratio']:.2f}x", f"sealer lag p99 {result['lag_p99']:.1f} s"]
            targets += [f"writers >= {TARGET_THROUGHPUT_RATIO}x", f"lag p99 < {TARGET_LAG_P99_SECONDS:.0f} s"]
            met = met and result["ratio"] >= TARGET_THROUGHPUT_RATIO and result["lag_p99"] < TARGET_LAG_P99_SECONDS
        else:
            print("2. concurrency: PostgreSQL only (SQLite has one writer at a time by design)")
        audit_seal_pending()
        start = time.perf_counter()
        report = audit_chain_verify()
        elapsed = time.perf_counter() - start
        print(
            f"verify_audit: {report.count} events in {elapsed:.2f} s "
            f"({report.count / elapsed:,.0f}/s), intact: {report.intact}"
        )
        met = met and report.intact
        print(
            f"audit: {', '.join(figures)} on {connection.vendor} "
            f"(target {', '.join(targets)}) {'met' if met else 'missed'}"
        )
        return 0 if met else 1
    finally:
        if old_config is not None:
            teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
