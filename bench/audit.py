"""Benchmark of the audit trail: saving evidence items with automatic capture on, as a ratio to capture off.

Run from the repository root: `python bench/audit.py [--items N] [--repeat N]`. It uses the embedded SQLite
database as `make run` configures it (WAL, file on disk) in a temporary folder, or DATABASE_URL's server (a
`test_`-prefixed copy of it) when that is set.
"Off" disconnects the capture's receivers for the benchmark only; the product has no such switch.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
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


def _clock() -> float:
    # SQLite runs inside this process: its CPU time is the cost, unblurred by other work on the machine.
    # PostgreSQL works in another process: wall time.
    return time.process_time() if connection.vendor == "sqlite" else time.perf_counter()


def _save_each(items: list[models.Model], per_transaction: int) -> float:
    start = _clock()
    if per_transaction == 1:
        for item in items:
            item.save()
    else:
        for first in range(0, len(items), per_transaction):
            with transaction.atomic():
                for item in items[first : first + per_transaction]:
                    item.save()
    return _clock() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0)  # the file database in the temporary RC_DATA_DIR
        old_config = None
    else:
        old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        from apps.audit.models import AuditEvent
        from apps.evidence.models import Evidence
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
        clock = "CPU time" if connection.vendor == "sqlite" else "wall time"
        python = platform.python_version()
        print(f"audit bench: {args.items} evidence items, {connection.vendor} ({clock}), Python {python}")
        print(f"{'mode':<28}{'off (s)':>10}{'on (s)':>10}{'ratio':>8}")
        worst = 0.0
        offset = 0
        for label, per_transaction in (("one transaction per save", 1), ("100 saves per transaction", 100)):
            best_off = best_on = float("inf")
            for _ in range(args.repeat):
                with auditing_off(Evidence):
                    items = list(_items(args.items, owner, category, offset))
                    best_off = min(best_off, _save_each(items, per_transaction))
                offset += args.items
                before = AuditEvent.objects.count()
                items = list(_items(args.items, owner, category, offset))
                best_on = min(best_on, _save_each(items, per_transaction))
                offset += args.items
                assert AuditEvent.objects.count() - before == args.items
            ratio = best_on / best_off
            worst = max(worst, ratio)
            print(f"{label:<28}{best_off:>10.2f}{best_on:>10.2f}{ratio:>8.2f}")
        from apps.audit.selectors import audit_chain_verify

        start = time.perf_counter()
        report = audit_chain_verify()
        elapsed = time.perf_counter() - start
        print(f"verify_audit over {report.count} events: {elapsed:.2f} s ({report.count / elapsed:,.0f} events/s)")
        verdict = "meets" if worst <= TARGET_RATIO else "MISSES"
        print(f"worst ratio {worst:.2f} {verdict} the target of {TARGET_RATIO}")
        return 0 if worst <= TARGET_RATIO else 1
    finally:
        if old_config is not None:
            teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
