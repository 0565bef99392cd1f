"""The hash chain: each sealed event's hash covers its content and the previous hash; verify_audit walks it."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from apps.audit.chain import compute_hash
from apps.audit.checkpoints import write_checkpoint
from apps.audit.constants import GENESIS_HASH, AuditAction
from apps.audit.models import AuditEvent, AuditSeal
from apps.audit.sealer import audit_seal_pending, unsealed_events
from apps.audit.serialization import canonical_json, json_safe
from apps.audit.services import audit_record
from tests.factories.audit import AuditEventFactory
from tests.factories.org import OrgUnitFactory


def _sealed_batch(n: int) -> list[AuditSeal]:
    events = AuditEventFactory.create_batch(n)
    audit_seal_pending()
    write_checkpoint(reason="test")
    return list(AuditSeal.objects.filter(event__in=events).order_by("sequence"))


def _tamper(sql: str, params: list) -> None:
    """Change the tables behind the ORM's back, as an attacker with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses while deferred checks wait
            cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
            cursor.execute("ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
            cursor.execute("ALTER TABLE audit_seal ENABLE TRIGGER audit_seal_append_only")


def _event_at(sequence: int) -> int:
    return AuditSeal.objects.get(sequence=sequence).event_id


@pytest.mark.django_db
def test_events_are_written_unsealed_then_numbered_from_one_each_linking_to_the_previous_hash():
    events = AuditEventFactory.create_batch(3)
    assert not AuditSeal.objects.exists()

    assert audit_seal_pending() == 3
    seals = list(AuditSeal.objects.order_by("sequence"))

    assert [(s.sequence, s.event_id) for s in seals] == [(1, events[0].pk), (2, events[1].pk), (3, events[2].pk)]
    assert seals[0].prev_hash == GENESIS_HASH
    assert seals[1].prev_hash == seals[0].hash
    assert seals[2].prev_hash == seals[1].hash


@pytest.mark.django_db
def test_sealing_twice_seals_nothing_more():
    AuditEventFactory.create_batch(3)

    assert audit_seal_pending() == 3
    assert audit_seal_pending() == 0
    assert list(AuditSeal.objects.order_by("sequence").values_list("sequence", flat=True)) == [1, 2, 3]


@pytest.mark.django_db
def test_the_hash_is_hmac_sha256_with_the_chain_key_of_the_canonical_json_of_the_content_and_previous_hash():
    event = audit_record(action=AuditAction.EXPORT_MADE, context={"rows": 2, "b": [1.5, "x"], "a": None})
    audit_seal_pending()
    stored = AuditEvent.objects.get(pk=event.pk)
    seal = AuditSeal.objects.get(event=stored)

    payload = {
        "sequence": seal.sequence,
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
    key = settings.AUDIT_CHAIN_KEY.encode()
    assert seal.scheme == "hmac-sha256"
    assert seal.hash == hmac.new(key, canonical_json(payload), hashlib.sha256).hexdigest()
    assert seal.hash != hashlib.sha256(canonical_json(payload)).hexdigest()
    assert seal.hash == compute_hash({**payload, "occurred_at": stored.occurred_at})
    assert canonical_json(json_safe({"b": 1, "a": [1.0, 1e20, 0.5]})) == b'{"a":[1,100000000000000000000,0.5],"b":1}'


@pytest.mark.django_db
def test_verify_audit_reports_an_intact_chain_and_the_events_awaiting_the_sealer(capsys):
    _sealed_batch(5)
    OrgUnitFactory()
    waiting = unsealed_events().count()

    call_command("verify_audit", "--batch-size", "2")

    out = capsys.readouterr().out
    assert f"OK: 5 events sealed, {waiting} awaiting the sealer, chain intact" in out
    head = AuditSeal.objects.order_by("-sequence").first()
    assert f"head: 5:{head.hash}" in out


@pytest.mark.django_db
def test_verify_audit_on_an_empty_trail_is_ok(capsys):
    call_command("verify_audit")

    assert "OK: 0 events sealed, 0 awaiting the sealer, chain intact" in capsys.readouterr().out


@pytest.mark.django_db
def test_seal_audit_command_seals_what_waits(capsys):
    AuditEventFactory.create_batch(3)

    call_command("seal_audit", "--batch-size", "2")

    assert "Sealed 3 audit events." in capsys.readouterr().out
    assert not unsealed_events().exists()
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("seal_audit", "--batch-size", "0")


@pytest.mark.django_db
def test_verify_audit_catches_a_removed_newest_event_against_a_recorded_head(capsys):
    _sealed_batch(3)
    call_command("verify_audit")
    head = capsys.readouterr().out.split("head: ")[1].strip()

    call_command("verify_audit", "--expect-head", head)  # still fine
    _tamper("DELETE FROM audit_seal WHERE sequence = %s", [3])
    with pytest.raises(CommandError, match=r"truncated after 2 \(the checkpoint says the head was 3\)"):
        call_command("verify_audit", "--expect-head", head)
    with pytest.raises(CommandError, match="--expect-head must look like"):
        call_command("verify_audit", "--expect-head", "nonsense")


# The tamper tests run on both databases; on PostgreSQL they first disable the trigger.


@pytest.mark.django_db
def test_verify_audit_names_the_event_whose_content_was_changed():
    _sealed_batch(5)

    _tamper("UPDATE audit_event SET object_repr = %s WHERE id = %s", ["Forged", _event_at(3)])

    with pytest.raises(CommandError, match=r"BROKEN: rewritten or forged from 3: hash mismatch") as excinfo:
        call_command("verify_audit")
    assert "2 events verify in sequence before the first break" in str(excinfo.value)


@pytest.mark.django_db
def test_verify_audit_names_a_removed_event():
    _sealed_batch(5)

    _tamper("DELETE FROM audit_seal WHERE sequence = %s", [2])

    with pytest.raises(CommandError, match=r"BROKEN: missing 2: missing sequence"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_verify_audit_names_the_event_after_one_rewritten_with_a_fresh_hash():
    _sealed_batch(4)
    seal = AuditSeal.objects.get(sequence=2)
    row = AuditEvent.objects.filter(pk=seal.event_id).values().get()
    row.update(object_repr="Forged", sequence=2, prev_hash=seal.prev_hash)
    new_hash = compute_hash(row)

    _tamper("UPDATE audit_event SET object_repr = %s WHERE id = %s", ["Forged", seal.event_id])
    _tamper("UPDATE audit_seal SET hash = %s WHERE sequence = %s", [new_hash, 2])

    with pytest.raises(CommandError, match=r"BROKEN: rewritten or forged from 3: previous-hash mismatch"):
        call_command("verify_audit")


@pytest.mark.postgres
@pytest.mark.django_db
def test_on_postgresql_the_tamper_of_a_row_is_named_by_verify_audit_and_the_trigger_is_back_on():
    _sealed_batch(3)
    _tamper("UPDATE audit_event SET context = %s::jsonb WHERE id = %s", ['{"forged": true}', _event_at(2)])

    with pytest.raises(CommandError, match="BROKEN: rewritten or forged from 2: hash mismatch"):
        call_command("verify_audit")
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname, tgenabled FROM pg_trigger WHERE tgname LIKE 'audit_%%_append_only' ORDER BY 1")
        assert cursor.fetchall() == [("audit_event_append_only", "O"), ("audit_seal_append_only", "O")]
