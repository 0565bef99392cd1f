"""Benchmark of `verify_audit`: how many sealed events a second `verify_trail()` checks on a long chain.

Run from the repository root against a PostgreSQL database of its own:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rc_h4_bench python bench/verify.py [--events N] [--keep]

It lays that database anew (drops and re-creates its `public` schema, then migrates it) and builds a chain of
--events (700,000) events: a few dozen real events captured from the product's own saves (an org unit, people with
encrypted personal values, evidence created and edited, domain events) serve as templates, varied per row, and copied
in with COPY; they are sealed with the product's hash function (`compute_hash`, seals copied in), and
`write_checkpoint` writes a checkpoint into a folder kept beside the bench, so `--keep` reuses chain and checkpoint.
Then it runs --repeat (3) rounds, each timing, in alternating order on the same chain, the previous walk (one
process: check_chain() over chain_rows(), a dict per row) and `verify_trail()` (ranges checked by one worker process
per core, tuples of stored text), and prints for each run the wall time, the CPU time (this process's threads and the
worker processes': hashing and reading ahead; not PostgreSQL's), events per CPU second, the peak RSS and the load
average, then the best and the median of each. `--workers N` passes N to verify_trail() (default: its own choice).

`--profile` runs one more verification in one process (`workers=1`) under cProfile and prints where the time goes.
The last line is the verdict: `verify: <N> events in <s> s, <rate> events/s (target >= 50,000) met|missed`,
judged on the best run's wall time.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

# Run as a plain script from the repo root without installing the project.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ritualcriteria.settings.test")  # settings as in CI
os.environ.setdefault("RC_DATA_DIR", tempfile.mkdtemp(prefix="rc-bench-verify-"))

TARGET_RATE = 50_000
EVENT_COLUMNS = (
    "occurred_at",
    "actor_user_id",
    "actor_name",
    "actor_ip",
    "request_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "context",
)


def _checkpoint_dir() -> Path:
    """Checkpoints in a folder of the bench database's own, kept between runs (so `--keep` finds the last one)."""
    url = os.environ.get("DATABASE_URL", "")
    name = url.rsplit("/", 1)[-1] or "sqlite"
    folder = Path(tempfile.gettempdir()) / f"rc-bench-verify-checkpoints-{name}"
    folder.mkdir(exist_ok=True)
    os.environ["AUDIT_CHECKPOINT_DIR"] = str(folder)
    return folder


def _templates() -> list[dict[str, Any]]:
    """Real events, captured from the product's own saves and domain events, to vary into a long chain."""
    from apps.audit.models import AuditEvent
    from apps.audit.services import audit_record
    from apps.evidence.constants import EvidenceAuditAction
    from apps.evidence.models import Evidence
    from apps.org.models import Employee, OrgUnit
    from apps.policies.models import EvidenceCategory

    category = EvidenceCategory.objects.order_by("pk").first() or EvidenceCategory.objects.create(
        code="customer_story", name="Customer story", kind="story"
    )
    run = random.randrange(10**9)  # a rebuild adds its own people beside the last build's
    unit = OrgUnit.objects.create(name=f"Front Desk {run}", code=f"front-desk-{run}")
    people = [
        Employee.objects.create(
            employee_number=f"B{run}-{i}",
            full_name=name,
            email=f"{name.split()[0].lower()}.{run}@example.com",
            org_unit=unit,
            job_function="support",
        )
        for i, name in enumerate(("Dana Okafor", "Ilse Brandt", "Tomás Ríos"))
    ]
    for i, owner in enumerate(people * 3):
        item = Evidence.objects.create(
            owner=owner,
            category=category,
            title=f"Faster check-in for late arrivals {i}",
            customer_quote="I waited forty minutes at midnight, and nobody at the desk could find my booking.",
            source_type="support_ticket",
            source_reference=f"TCK-{4400 + i}",
            interpretation="Night arrivals were served by one person who also ran the bar.",
            response="Self check-in kiosk at night, with a phone line to the duty manager.",
            metric_name="Median night check-in time",
            metric_kind="operational",
            baseline="38.5",
            result="6.25",
            metric_unit="minutes",
            direction="decrease",
            metric_period="Q1 vs Q3",
            impact_date=dt.date(2026, 10, 1),
        )
        item.title = f"Self check-in at night cut waits {i}"
        item.save()
        audit_record(
            action=EvidenceAuditAction.EVIDENCE_SUBMITTED,
            object_type="evidence.evidence",
            object_id=str(item.pk),
            object_repr=str(item),
            context={"reviewers": [p.pk for p in people], "note": "ready for review", "attachments": 2},
        )
    return list(AuditEvent.objects.order_by("id").values(*EVENT_COLUMNS))


def _varied(template: dict[str, Any], n: int, when: dt.datetime) -> tuple[Any, ...]:
    """One row to COPY: the template with its own time, object id and text, so no two rows hash alike."""
    changes = dict(template["changes"])
    for name, pair in changes.items():
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str) and name in ("title", "name"):
            changes[name] = [pair[0], f"{pair[1]} #{n}"]
    return (
        when,
        template["actor_user_id"],
        template["actor_name"],
        f"10.0.{n % 250}.{n % 200}",
        f"req-{n:012d}",
        template["action"],
        template["object_type"],
        str(n),
        f"{template['object_repr']} #{n}"[:200],
        json.dumps(changes, ensure_ascii=False),
        json.dumps(template["context"], ensure_ascii=False),
    )


def _build(events: int) -> None:
    """Build, seal and checkpoint a chain of `events` events in the (new) database."""
    import psycopg
    from django.db import connection

    from apps.audit.checkpoints import write_checkpoint

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_seal, audit_event")
    templates = _templates()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_seal, audit_event")  # the templates' own events: the chain starts clean
    sizes = [len(json.dumps(t["changes"])) + len(json.dumps(t["context"])) for t in templates]
    print(f"   {len(templates)} template events, changes+context {min(sizes)}-{max(sizes)} bytes")
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    columns = ", ".join(EVENT_COLUMNS)
    with psycopg.connect(os.environ["DATABASE_URL"]) as raw:
        for first in range(0, events, 100_000):
            with raw.cursor() as copying, copying.copy(f"COPY audit_event ({columns}) FROM STDIN") as copy:
                for n in range(first, min(events, first + 100_000)):
                    template = templates[n % len(templates)]
                    copy.write_row(_varied(template, n, base + dt.timedelta(seconds=n)))
            raw.commit()
    print(f"   copied {events} events in {time.perf_counter() - started:.0f} s")
    sealed = _seal(events)
    print(f"   sealed {sealed} events ({time.perf_counter() - started:.0f} s so far)")
    with connection.cursor() as cursor:  # statistics of the new rows now, not whenever autovacuum gets to them
        cursor.execute("ANALYZE audit_event, audit_seal")
    write_checkpoint(reason="bench", force=True)
    print(f"   checkpoint written ({time.perf_counter() - started:.0f} s in all)")


def _seal(events: int) -> int:
    """Seal the copied events in id order with the product's hash function (apps.audit.chain.compute_hash), writing
    the seals with COPY. The product's sealer would give the same chain, but it waits for every transaction open
    anywhere on the cluster to end (it never seals past one), and other sessions' may stay open for minutes."""
    import psycopg
    from django.utils import timezone

    from apps.audit.chain import EVENT_HASHED_FIELDS, chain_key, compute_hash
    from apps.audit.constants import GENESIS_HASH, HashScheme
    from apps.audit.models import AuditEvent

    key, now = chain_key(), timezone.now()
    sequence, previous, last_id = 0, GENESIS_HASH, 0
    with psycopg.connect(os.environ["DATABASE_URL"]) as raw:
        while True:
            rows = list(
                AuditEvent.objects.filter(id__gt=last_id).order_by("id").values("id", *EVENT_HASHED_FIELDS)[:20_000]
            )
            if not rows:
                return sequence
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    "COPY audit_seal (sequence, event_id, prev_hash, hash, scheme, sealed_at) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    sequence += 1
                    row["sequence"], row["prev_hash"] = sequence, previous
                    previous = compute_hash(row, scheme=HashScheme.HMAC_SHA256, key=key)
                    copy.write_row((sequence, row["id"], row["prev_hash"], previous, HashScheme.HMAC_SHA256, now))
            raw.commit()
            last_id = rows[-1]["id"]


def _ready(events: int) -> bool:
    """Whether the database already holds a sealed chain of at least `events` events and a checkpoint of it."""
    from apps.audit.checkpoints import latest_checkpoint
    from apps.audit.models import AuditSeal
    from apps.audit.sealer import unsealed_events

    head = AuditSeal.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    checkpoint = latest_checkpoint()
    return (
        head >= events
        and checkpoint is not None
        and checkpoint.head_sequence == head
        and not (unsealed_events().exists())
    )


@dataclass(frozen=True)
class Run:
    """One timed verification: wall and CPU seconds (this process's threads and the worker processes it waited
    for), events verified, whether the chain verified, and the load average after it."""

    wall: float
    cpu: float
    count: int
    ok: bool
    load: str

    def __str__(self) -> str:
        return (
            f"{self.count} events in {self.wall:.2f} s wall ({self.count / self.wall:,.0f}/s), CPU {self.cpu:.2f} s "
            f"({self.count / self.cpu:,.0f} per CPU second), peak RSS {_peak_rss_mb():.0f} MB, load {self.load}, "
            f"{'ok' if self.ok else 'BROKEN'}"
        )


def _previous_walk() -> tuple[int, bool]:
    """The walk verify_trail() did before it read tuples: check_chain() over chain_rows() (a dict per row)."""
    from apps.audit.chain import check_chain
    from apps.audit.checkpoints import chain_rows

    report = check_chain(chain_rows())
    return report.count, report.intact


def _timed(name: str, verify: Any) -> Run:
    def cpu_seconds() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    cpu, wall = cpu_seconds(), time.perf_counter()
    result = verify()
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    count, ok = (result.report.count, result.ok) if name == "verify_trail" else result
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return Run(wall, cpu, count, ok, load)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=700_000, help="length of the chain to verify")
    parser.add_argument("--keep", action="store_true", help="reuse the chain already built, if long enough")
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each timing both walks")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: verify_trail's choice)")
    parser.add_argument("--profile", action="store_true", help="one more run in one process under cProfile")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("set DATABASE_URL to a PostgreSQL database of the bench's own (it empties its audit tables)")
    checkpoints = _checkpoint_dir()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.audit.verification import verify_trail

    if not args.keep:  # the bench's own database, laid anew: another branch's migrations may have run on it
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        shutil.rmtree(checkpoints)  # the last chain's checkpoints: the new chain does not extend them
        checkpoints.mkdir()
    call_command("migrate", verbosity=0)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"verify bench: {connection.vendor}, Python {platform.python_version()}, load {load}")
    if args.keep and _ready(args.events):
        print("1. reusing the sealed chain (--keep)")
    else:
        print(f"1. building a chain of {args.events} events")
        _build(args.events)
    print(
        f"2. {args.repeat} rounds, each timing the previous walk (check_chain over chain_rows, dict rows) and "
        f"verify_trail() in turn (peak RSS before: {_peak_rss_mb():.0f} MB)"
    )
    runs: dict[str, list[Run]] = {"previous": [], "verify_trail": []}
    for round_ in range(args.repeat):
        order = ("previous", "verify_trail") if round_ % 2 == 0 else ("verify_trail", "previous")
        for name in order:
            run = _timed(
                name, partial(verify_trail, workers=args.workers) if name == "verify_trail" else _previous_walk
            )
            runs[name].append(run)
            print(f"   {name:12s} {run}")
    for name, timed in runs.items():
        rates = sorted(run.count / run.wall for run in timed)
        cpu_rates = sorted(run.count / run.cpu for run in timed)
        print(
            f"   {name:12s} best {rates[-1]:,.0f}/s, median {statistics.median(rates):,.0f}/s of wall time; "
            f"best {cpu_rates[-1]:,.0f}, median {statistics.median(cpu_rates):,.0f} per CPU second"
        )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(verify_trail, workers=1)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print("3. profile (by own time):")
        print("\n".join("   " + line for line in out.getvalue().splitlines() if line.strip()))
    best = min(runs["verify_trail"], key=lambda run: run.wall)
    wall, count, ok = best.wall, best.count, best.ok
    rate = count / wall
    met = ok and rate >= TARGET_RATE
    print(
        f"verify: {count} events in {wall:.2f} s, {rate:,.0f} events/s (target >= {TARGET_RATE:,}) "
        f"{'met' if met else 'missed'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
