"""The hash chain: each event's hash covers its content and the previous hash; verify_audit walks it."""

from __future__ import annotations

import hashlib
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from apps.audit.chain import compute_hash
from apps.audit.constants import GENESIS_HASH, AuditAction
from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_chain_verify
from apps.audit.serialization import canonical_json, json_safe
from apps.audit.services import audit_record
from tests.factories.audit import AuditEventFactory
from tests.factories.org import OrgUnitFactory


def _tamper(sql: str, params: list) -> None:
    """Change the table behind the ORM's back, as an attacker with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only")


@pytest.mark.django_db
def test_events_are_numbered_from_one_and_each_links_to_the_previous_hash():
    events = AuditEventFactory.create_batch(3)

    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash


@pytest.mark.django_db
def test_the_hash_is_sha256_of_the_canonical_json_of_the_content_and_previous_hash():
    event = audit_record(action=AuditAction.EXPORT_MADE, context={"rows": 2, "b": [1.5, "x"], "a": None})
    stored = AuditEvent.objects.get(pk=event.pk)

    payload = {
        "sequence": stored.sequence,
        "occurred_at": stored.occurred_at.isoformat(),
        "actor_user_id": None,
        "actor_name": "system",
        "actor_ip": "",
        "request_id": "",
        "action": "export_made",
        "object_type": "",
        "object_id": "",
        "object_repr": "",
        "changes": {},
        "context": {"a": None, "b": [1.5, "x"], "rows": 2},
        "prev_hash": GENESIS_HASH,
    }
    assert stored.hash == hashlib.sha256(canonical_json(payload)).hexdigest() == compute_hash(stored)
    assert canonical_json(json_safe({"b": 1, "a": [1.0, 1e20, 0.5]})) == b'{"a":[1,100000000000000000000,0.5],"b":1}'


@pytest.mark.django_db
def test_verify_audit_reports_an_intact_chain(capsys):
    AuditEventFactory.create_batch(5)
    OrgUnitFactory()

    call_command("verify_audit", "--batch-size", "2")

    out = capsys.readouterr().out
    assert "OK: 6 events, chain intact" in out
    head = AuditEvent.objects.order_by("-sequence").first()
    assert f"head: 6:{head.hash}" in out


@pytest.mark.django_db
def test_verify_audit_on_an_empty_trail_is_ok(capsys):
    call_command("verify_audit")

    assert "OK: 0 events, chain intact" in capsys.readouterr().out


@pytest.mark.django_db
def test_verify_audit_catches_a_removed_newest_event_against_a_recorded_head(capsys):
    AuditEventFactory.create_batch(3)
    call_command("verify_audit")
    head = capsys.readouterr().out.split("head: ")[1].strip()

    call_command("verify_audit", "--expect-head", head)  # still fine
    if connection.vendor == "sqlite":
        _tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [3])
        with pytest.raises(CommandError, match="BROKEN at sequence 3: missing sequence"):
            call_command("verify_audit", "--expect-head", head)
    with pytest.raises(CommandError, match="--expect-head must look like"):
        call_command("verify_audit", "--expect-head", "nonsense")


# The tamper tests run on SQLite too (no trigger there); on PostgreSQL they first disable the trigger.


@pytest.mark.django_db
def test_verify_audit_names_the_event_whose_content_was_changed():
    AuditEventFactory.create_batch(5)

    _tamper("UPDATE audit_auditevent SET object_repr = %s WHERE sequence = %s", ["Forged", 3])

    with pytest.raises(CommandError, match=r"BROKEN at sequence 3: hash mismatch") as excinfo:
        call_command("verify_audit")
    assert "2 events before it are intact" in str(excinfo.value)


@pytest.mark.django_db
def test_verify_audit_names_a_removed_event():
    AuditEventFactory.create_batch(5)

    _tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [2])

    with pytest.raises(CommandError, match=r"BROKEN at sequence 2: missing sequence"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_verify_audit_names_the_event_after_one_rewritten_with_a_fresh_hash():
    AuditEventFactory.create_batch(4)
    forged = AuditEvent.objects.get(sequence=2)
    forged.object_repr = "Forged"
    new_hash = compute_hash(forged)

    _tamper("UPDATE audit_auditevent SET object_repr = %s, hash = %s WHERE sequence = %s", ["Forged", new_hash, 2])

    with pytest.raises(CommandError, match=r"BROKEN at sequence 3: previous-hash mismatch"):
        call_command("verify_audit")


@pytest.mark.postgres
@pytest.mark.django_db
def test_on_postgresql_the_tamper_of_a_row_is_named_by_verify_audit_and_the_trigger_is_back_on():
    AuditEventFactory.create_batch(3)
    _tamper("UPDATE audit_auditevent SET context = %s::jsonb WHERE sequence = %s", ['{"forged": true}', 2])

    with pytest.raises(CommandError, match="BROKEN at sequence 2: hash mismatch"):
        call_command("verify_audit")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_auditevent_append_only'",
        )
        assert cursor.fetchone() == ("O",)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_transactions_appending_at_once_still_form_one_chain():
    # Each thread opens a transaction, appends, waits for the other to be inside its transaction too,
    # appends again and commits. The advisory lock makes the second wait for the first's commit.
    barrier = threading.Barrier(2, timeout=5)
    errors: list[BaseException] = []
    already = AuditEvent.objects.count()  # e.g. role groups made again after the flush (post_migrate)

    def writer(name: str) -> None:
        try:
            with transaction.atomic():
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    pass
                for n in range(20):
                    audit_record(action=AuditAction.EXPORT_MADE, object_repr=f"{name} {n}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    report = audit_chain_verify()
    assert report.intact
    assert report.count == AuditEvent.objects.count() == already + 40
    # Commit order: one transaction's 20 events, then the other's.
    ours = AuditEvent.objects.filter(sequence__gt=already).order_by("sequence")
    names = [repr_[0] for repr_ in ours.values_list("object_repr", flat=True)]
    assert names in (["a"] * 20 + ["b"] * 20, ["b"] * 20 + ["a"] * 20)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_autocommit_saves_from_many_threads_form_one_chain():
    errors: list[BaseException] = []
    already = AuditEvent.objects.count()

    def writer(offset: int) -> None:
        try:
            for n in range(10):
                OrgUnitFactory(code=f"unit-t{offset}-{n}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    report = audit_chain_verify()
    assert report.intact and report.count == already + 40
