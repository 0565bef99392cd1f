"""The sealer chains committed events after commit, in a deterministic order, never past a running transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent, AuditSeal
from apps.audit.sealer import audit_seal, audit_seal_pending, unsealed_events, unsealed_summary
from apps.audit.selectors import audit_chain_verify
from apps.audit.services import audit_record
from ritualcriteria.celery import app
from tests.factories.org import OrgUnitFactory

ROOT = Path(__file__).resolve().parents[2]


def _record(name: str) -> AuditEvent:
    return audit_record(action=AuditAction.EXPORT_MADE, object_repr=name)


def _seal_everything(timeout: float = 30) -> None:
    """Seal until nothing waits: a writing transaction elsewhere in the cluster may hold the horizon back a while."""
    deadline = time.monotonic() + timeout
    while True:
        audit_seal_pending()
        if not unsealed_events().exists() or time.monotonic() > deadline:
            return
        time.sleep(0.1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_transactions_committing_in_the_opposite_order_of_their_event_ids_still_form_a_verified_chain():
    first_wrote, second_committed, release_first = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []
    ids: dict[str, int] = {}

    def older() -> None:  # writes first (lower event id), commits last
        try:
            with transaction.atomic():
                ids["older"] = _record("older").pk
                first_wrote.set()
                assert release_first.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def younger() -> None:
        try:
            assert first_wrote.wait(10)
            with transaction.atomic():
                ids["younger"] = _record("younger").pk
            second_committed.set()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=older), threading.Thread(target=younger)]
    for thread in threads:
        thread.start()
    assert second_committed.wait(10)
    assert ids["older"] < ids["younger"]

    # The younger event is committed, but the older transaction may still commit an event before it: not sealed.
    audit_seal_pending()
    assert not AuditSeal.objects.filter(event_id=ids["younger"]).exists()

    release_first.set()
    for thread in threads:
        thread.join(20)
    assert errors == []
    _seal_everything()

    older, younger = AuditSeal.objects.get(event_id=ids["older"]), AuditSeal.objects.get(event_id=ids["younger"])
    assert older.sequence < younger.sequence
    report = audit_chain_verify()
    assert report.intact and report.unsealed == 0
    assert report.count == AuditEvent.objects.count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_writers_and_a_sealer_running_at_once_leave_one_intact_chain_with_nothing_sealed_twice():
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(offset: int) -> None:
        try:
            for n in range(15):
                with transaction.atomic():
                    OrgUnitFactory(code=f"unit-w{offset}-{n}")
                    _record(f"w{offset} {n}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def sealer() -> None:
        try:
            while not stop.is_set():
                audit_seal(limit=7)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(offset,)) for offset in range(8)]
    for thread in sealers + writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    stop.set()
    for thread in sealers:
        thread.join(20)
    _seal_everything()

    assert errors == []
    report = audit_chain_verify()
    assert report.intact and report.unsealed == 0
    assert report.count == AuditEvent.objects.count() >= 8 * 15 * 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sealer_killed_mid_batch_seals_nothing_of_that_batch_and_the_next_run_completes_the_chain():
    for n in range(30):
        _record(f"event {n}")
    settings_db = connection.settings_dict
    url = f"postgres://{settings_db['USER']}@{settings_db['HOST']}:{settings_db['PORT']}/{settings_db['NAME']}"
    # A sealer in its own process that seals one batch of 10, then hangs in the middle of the next one.
    script = textwrap.dedent(
        """
        import time
        from unittest import mock
        import django
        django.setup()
        from apps.audit import sealer
        calls = {"n": 0}
        real = sealer.compute_hash
        def slow(row, **kwargs):
            calls["n"] += 1
            if calls["n"] == 15:
                time.sleep(120)
            return real(row, **kwargs)
        with mock.patch.object(sealer, "compute_hash", slow):
            sealer.audit_seal_pending(batch_size=10)
        """
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "ritualcriteria.settings.test"}
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env)  # noqa: S603 - our own code
    try:
        # The first batch commits; the second hangs before its seals are written: kill the process there.
        deadline = time.monotonic() + 60
        while AuditSeal.objects.count() < 10 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.1)
        time.sleep(0.5)
        assert child.poll() is None, "the sealer ended before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    time.sleep(0.2)  # the server notices the closed connection and rolls its transaction back

    assert AuditSeal.objects.count() == 10  # the first batch committed; the killed one left nothing
    _seal_everything()
    report = audit_chain_verify()
    assert report.intact and report.unsealed == 0 and report.count == AuditEvent.objects.count()
    assert sorted(AuditSeal.objects.values_list("sequence", flat=True)) == list(range(1, report.count + 1))
    assert AuditSeal.objects.values("event").distinct().count() == report.count


@pytest.mark.django_db
def test_health_summary_names_how_many_events_wait_and_for_how_long():
    assert unsealed_summary() == {"unsealed": 0, "oldest_unsealed_age_seconds": None}
    _record("waiting")

    summary = unsealed_summary()

    assert summary["unsealed"] == 1 and summary["oldest_unsealed_age_seconds"] >= 0
    audit_seal_pending()
    assert unsealed_summary()["unsealed"] == 0


@pytest.fixture
def sealing_worker(transactional_db):
    app.control.purge()  # tasks earlier tests published (audit seals, drains) must not run during this one
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING") as worker:
        yield worker


@pytest.mark.celery_worker
def test_a_committed_change_is_sealed_by_a_worker_without_anyone_asking(sealing_worker, settings):
    settings.AUDIT_SEAL_KICK_INTERVAL = 0
    with transaction.atomic():
        unit = OrgUnitFactory()

    deadline = time.monotonic() + 20
    event = AuditEvent.objects.filter(object_type="org.orgunit", object_id=str(unit.pk)).get()
    while not AuditSeal.objects.filter(event=event).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert AuditSeal.objects.filter(event=event).exists()
    assert audit_chain_verify().intact


@pytest.mark.django_db(transaction=True)
def test_a_busy_process_asks_for_one_delayed_seal_per_interval_after_its_commits(settings, monkeypatch):
    from apps.audit import sealer, tasks

    settings.AUDIT_SEAL_KICK_INTERVAL = 30.0
    monkeypatch.setitem(sealer._kick_state, "last", -1e9)
    monkeypatch.setitem(sealer._kick_state, "quiet_until", 0.0)
    asked: list[dict] = []
    monkeypatch.setattr(tasks.seal, "apply_async", lambda **options: asked.append(options))

    with transaction.atomic():
        _record("first")
        assert asked == []  # nothing before the commit
    for n in range(3):
        with transaction.atomic():
            _record(f"then {n}")

    assert len(asked) == 1 and asked[0]["countdown"] == 30.0  # runs after the others committed: seals them too
