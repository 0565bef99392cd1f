"""An attacker with database access (a superuser who can disable the append-only triggers) against the keyed chain
and the signed checkpoint kept outside the database: verify_audit names each kind of tampering."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.audit.chain import EVENT_HASHED_FIELDS, hash_input
from apps.audit.checkpoints import ChainDoesNotExtendCheckpoint, write_checkpoint
from apps.audit.models import AuditEvent, AuditSeal
from apps.audit.sealer import audit_seal_pending, unsealed_events
from tests.audit.helpers import tamper
from tests.factories.audit import AuditEventFactory

# Committed transactions: the sealer seals only what committed below the oldest running transaction of the cluster.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _seal_all() -> None:
    """Seal until nothing waits (another session's open transaction on the cluster may hold sealing back a moment)."""
    deadline = time.monotonic() + 60
    audit_seal_pending()
    while unsealed_events().exists():
        assert time.monotonic() < deadline, "the sealer never got past an open transaction"
        time.sleep(0.2)
        audit_seal_pending()


def _checkpointed_chain(n: int = 5) -> int:
    """Seal n more events (after those the test's set-up wrote) and write a checkpoint; return the head."""
    AuditEventFactory.create_batch(n)
    _seal_all()
    checkpoint = write_checkpoint(reason="test")
    assert checkpoint is not None
    return checkpoint.head_sequence


def _verify_fails_with(text: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit")
    assert text in str(excinfo.value)
    return str(excinfo.value)


def _forge(count: int, *, scheme: str, sign) -> None:  # noqa: ANN001 - a hash function of the attacker's
    """Append `count` events with seals whose hashes the attacker computed with `sign`."""
    head = AuditSeal.objects.order_by("-sequence").values("sequence", "hash").first()
    sequence, previous = head["sequence"], head["hash"]
    for event in AuditEventFactory.create_batch(count, object_repr="forged"):
        row = AuditEvent.objects.filter(pk=event.pk).values(*EVENT_HASHED_FIELDS).get()
        sequence += 1
        row.update(sequence=sequence, prev_hash=previous)
        previous = sign(hash_input(row))
        AuditSeal.objects.bulk_create(
            [
                AuditSeal(
                    sequence=sequence,
                    event=event,
                    prev_hash=row["prev_hash"],
                    hash=previous,
                    scheme=scheme,
                    sealed_at=timezone.now(),
                )
            ]
        )


def test_the_untouched_chain_verifies_against_its_checkpoint(capsys):
    head = _checkpointed_chain()

    call_command("verify_audit")

    out = capsys.readouterr().out
    assert f"OK: {head} events sealed, 0 awaiting the sealer, chain intact, matches the checkpoint" in out


def test_deleting_the_newest_events_is_named_truncated_after_the_last_one_left():
    head = _checkpointed_chain()
    first_gone = AuditSeal.objects.get(sequence=head - 1).event_id

    tamper("DELETE FROM audit_seal WHERE sequence >= %s", [head - 1])
    tamper("DELETE FROM audit_event WHERE id >= %s", [first_gone])

    _verify_fails_with(f"truncated after {head - 2} (the checkpoint says the head was {head})")
    # and no new checkpoint makes the shortened chain look right
    with pytest.raises(
        ChainDoesNotExtendCheckpoint, match=f"sequence {head}, the head of the latest checkpoint, is gone"
    ):
        write_checkpoint(reason="test", force=True)


def test_truncating_both_tables_is_named_truncated_after_zero():
    head = _checkpointed_chain()

    tamper("TRUNCATE audit_seal, audit_event")

    _verify_fails_with(f"truncated after 0 (the checkpoint says the head was {head})")


def test_events_appended_with_correct_plain_sha256_hashes_are_named_forged():
    head = _checkpointed_chain()

    _forge(2, scheme="sha256", sign=lambda data: hashlib.sha256(data).hexdigest())

    _verify_fails_with(f"rewritten or forged from {head + 1}: unkeyed seal after keyed sealing began")


def test_events_appended_as_keyed_but_hashed_without_the_key_are_named_forged():
    head = _checkpointed_chain()

    _forge(2, scheme="hmac-sha256", sign=lambda data: hashlib.sha256(data).hexdigest())

    _verify_fails_with(f"rewritten or forged from {head + 1}: hash mismatch")


def test_events_appended_with_a_wrong_key_are_named_forged():
    head = _checkpointed_chain()

    _forge(2, scheme="hmac-sha256", sign=lambda data: hmac.new(b"a guessed key", data, hashlib.sha256).hexdigest())

    _verify_fails_with(f"rewritten or forged from {head + 1}: hash mismatch")


def test_a_rewritten_event_in_the_middle_is_named_forged_from_it():
    head = _checkpointed_chain()

    tamper(
        "UPDATE audit_event SET object_repr = 'rewritten' WHERE id = %s",
        [AuditSeal.objects.get(sequence=head - 2).event_id],
    )

    _verify_fails_with(f"rewritten or forged from {head - 2}: hash mismatch")


def test_a_chain_recomputed_in_plain_sha256_from_the_middle_is_named_forged():
    head = _checkpointed_chain()
    tamper("DELETE FROM audit_seal WHERE sequence >= %s", [head - 2])

    _forge(3, scheme="sha256", sign=lambda data: hashlib.sha256(data).hexdigest())

    _verify_fails_with(f"rewritten or forged from {head - 2}: unkeyed seal after keyed sealing began")


def test_a_deleted_event_in_the_middle_is_named_missing():
    head = _checkpointed_chain()

    tamper("DELETE FROM audit_seal WHERE sequence = %s", [head - 2])

    _verify_fails_with(f"missing {head - 2}")


def test_the_triggers_are_back_on_after_the_tampering():
    _checkpointed_chain(1)
    tamper("SELECT 1")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_seal SET hash = 'x'")
