"""The verifier reads `changes` and `context` as stored JSON text and hashes them through orjson: it reaches the same
verdicts as hashing the ORM's decoded values the sealer's way, on SQLite and PostgreSQL, for every kind of tampering,
and streams the chain in bounded batches."""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.audit.chain import (
    EVENT_HASHED_FIELDS,
    ChainReport,
    StoredJSON,
    chain_key,
    check_chain,
    check_stored_chain,
    compute_hash,
    hash_input,
    quick_hash_input,
    stored_hash_input,
    stored_row_mapping,
)
from apps.audit.checkpoints import chain_rows, write_checkpoint
from apps.audit.constants import GENESIS_HASH
from apps.audit.models import AuditEvent, AuditSeal
from apps.audit.sealer import audit_seal_pending
from apps.audit.serialization import canonical_json, canonical_json_quick, json_safe
from apps.audit.services import audit_record
from apps.audit.verification import stored_rows, verify_trail
from tests.audit.helpers import tamper
from tests.factories.audit import AuditEventFactory

# JSON values as the trail stores them (json_safe: integral floats are integers), big integers and floats included.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
).map(json_safe)
json_documents = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


def _has_exponent_float(value: Any) -> bool:
    """Whether the standard library writes a float of `value` in exponent notation (where orjson's form differs)."""
    if isinstance(value, float):
        return "e" in repr(value)
    if isinstance(value, dict):
        return any(_has_exponent_float(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_exponent_float(item) for item in value)
    return False


def _has_big_int(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return not -(2**63) <= value < 2**64
    if isinstance(value, dict):
        return any(_has_big_int(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_big_int(item) for item in value)
    return False


def _sealer_rows() -> Iterator[dict[str, Any]]:
    """The chain as the sealer reads events (the ORM decodes the JSON columns): the reference for every verdict."""
    seals = AuditSeal.objects.order_by("sequence").values(
        "sequence", "prev_hash", "hash", "scheme", *(f"event__{name}" for name in EVENT_HASHED_FIELDS)
    )
    for row in seals:
        yield {name.removeprefix("event__"): value for name, value in row.items()}


def _both_verdicts() -> tuple[ChainReport, ChainReport]:
    """The verifier's verdict (tuples of stored text) and the sealer's way's; the dict rows of chain_rows() agree."""
    stored, reference = check_stored_chain(stored_rows()), check_chain(_sealer_rows())
    assert check_chain(chain_rows()) == reference
    return stored, reference


def _sealed(n: int, **fields: Any) -> list[int]:
    """Seal n new events and write a checkpoint; return the sequences of the new events."""
    events = AuditEventFactory.create_batch(n, **fields)
    audit_seal_pending()
    write_checkpoint(reason="test")
    return list(AuditSeal.objects.filter(event__in=events).order_by("sequence").values_list("sequence", flat=True))


def _event_at(sequence: int) -> int:
    return AuditSeal.objects.get(sequence=sequence).event_id


def _stored_time(event_id: int, moved: dt.timedelta) -> Any:
    """The event's time moved by `moved`, as the database stores a time (a parameter for raw SQL)."""
    field = AuditEvent._meta.get_field("occurred_at")
    return field.get_db_prep_value(AuditEvent.objects.get(pk=event_id).occurred_at + moved, connection)


def _jsonb(sql: str) -> str:
    """`sql` with its {json} placeholder cast to jsonb on PostgreSQL (SQLite stores JSON as text)."""
    return sql.format(json="%s::jsonb" if connection.vendor == "postgresql" else "%s")


@given(changes=json_values, context=json_values, text=st.text(max_size=30))
@settings(max_examples=200, deadline=None)
def test_orjson_writes_the_sealers_canonical_bytes_for_any_value_but_floats_in_exponent_notation(
    changes, context, text
):
    payload = {"changes": changes, "context": context, "object_repr": text, "sequence": 7, "actor_user_id": None}

    quick = canonical_json_quick(payload)

    if quick is None:  # orjson refuses an integer beyond 64 bits: the verifier hashes that event the sealer's way
        assert _has_big_int(payload)
    else:
        assert json.loads(quick) == payload  # a faithful encoding: equal bytes can only come from equal values
        if not _has_exponent_float(payload):
            assert quick == canonical_json(payload)


@pytest.mark.django_db
@given(changes=json_documents, context=json_documents, text=st.text(max_size=40).map(lambda s: s.replace("\x00", "")))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_random_stored_event_hashes_identically_by_the_sealer_and_by_the_verifiers_path(changes, context, text):
    if connection.vendor == "postgresql":  # jsonb holds no NUL character, and the sealer can't have stored one
        if "\\u0000" in json.dumps([changes, context]):
            return
    event = audit_record(action="evidence_submitted", object_repr=text[:200], changes=changes, context=context)
    audit_seal_pending()
    seal = AuditSeal.objects.get(event=event)
    row = next(chain_rows(after=seal.sequence - 1))

    assert row["sequence"] == seal.sequence
    assert isinstance(row["changes"], StoredJSON)
    assert hmac.new(chain_key(), hash_input(row), "sha256").hexdigest() == seal.hash  # the sealer's bytes, from text
    stored = next(stored_rows(after=seal.sequence - 1))
    assert hash_input(stored_row_mapping(stored)) == hash_input(row)
    if not _has_exponent_float([changes, context]) and not _has_big_int([changes, context]):
        assert quick_hash_input(row) == hash_input(row)  # the fast path confirms the seal: no second hashing
        assert stored_hash_input(stored) == hash_input(row)
    assert check_chain([row], start=(seal.sequence - 1, seal.prev_hash)).intact
    assert check_stored_chain([stored], start=(seal.sequence - 1, seal.prev_hash)).intact


@pytest.mark.django_db
def test_events_whose_floats_orjson_writes_otherwise_still_verify_and_their_tampering_is_named():
    odd = {"tiny": 1e-07, "huge": 1.5e300, "big": 2**70, "negative": -(2**65), "fine": 38.5, "text": "ü\u2028\x1f"}
    sequences = _sealed(1, changes={"metric": [odd, {**odd, "tiny": 2e-07}]}, context=odd)
    _sealed(2)

    result = verify_trail()
    assert result.ok, result.problems

    # orjson reads 2**70 as the float 1.1805916207174113e21: a float of that value in its place must still show.
    for forged in ({**odd, "huge": 1.6e300}, {**odd, "big": float(2**70)}):
        tamper(
            _jsonb("UPDATE audit_event SET context = {json} WHERE id = %s"),
            [json.dumps(forged), _event_at(sequences[0])],
        )
        result = verify_trail()
        assert result.problems[0].startswith(f"rewritten or forged from {sequences[0]}: hash mismatch")


TAMPERS = {
    "changes rewritten": (
        "UPDATE audit_event SET changes = {json} WHERE id = %s",
        lambda: [json.dumps({"status": ["draft", "verified"]}), _event_at(3)],
        "rewritten or forged from 3: hash mismatch",
    ),
    "changes keys reordered and values kept": (
        "UPDATE audit_event SET changes = {json} WHERE id = %s",
        lambda: [json.dumps({"b": [1, 2], "a": ["x", None]}), _event_at(2)],
        None,  # the same value, stored afresh: nothing was changed
    ),
    "context rewritten": (
        "UPDATE audit_event SET context = {json} WHERE id = %s",
        lambda: [json.dumps({"forged": True}), _event_at(4)],
        "rewritten or forged from 4: hash mismatch",
    ),
    "object text rewritten": (
        "UPDATE audit_event SET object_repr = %s WHERE id = %s",
        lambda: ["someone else", _event_at(2)],
        "rewritten or forged from 2: hash mismatch",
    ),
    "actor rewritten": (
        "UPDATE audit_event SET actor_name = %s, actor_user_id = %s WHERE id = %s",
        lambda: ["HR admin", 99, _event_at(5)],
        "rewritten or forged from 5: hash mismatch",
    ),
    "time moved by a microsecond": (
        "UPDATE audit_event SET occurred_at = %s WHERE id = %s",
        lambda: [_stored_time(_event_at(1), dt.timedelta(microseconds=1)), _event_at(1)],
        "rewritten or forged from 1: hash mismatch",
    ),
    "seal hash replaced": (
        "UPDATE audit_seal SET hash = %s WHERE sequence = %s",
        lambda: ["f" * 64, 3],
        "rewritten or forged from 3: hash mismatch",
    ),
    "previous hash replaced": (
        "UPDATE audit_seal SET prev_hash = %s WHERE sequence = %s",
        lambda: ["e" * 64, 4],
        "rewritten or forged from 4: previous-hash mismatch",
    ),
    "seal removed from the middle": (
        "DELETE FROM audit_seal WHERE sequence = %s",
        lambda: [3],
        "missing 3: missing sequence",
    ),
    "newest seals removed": (
        "DELETE FROM audit_seal WHERE sequence > %s",
        lambda: [4],
        "truncated after 4 (the checkpoint says the head was 6)",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TAMPERS)
def test_the_stored_text_path_names_every_tampering_as_the_sealers_decoding_does(kind):
    AuditEventFactory.create_batch(
        6, changes={"a": ["x", None], "b": [1, 2]}, context={"request": {"path": "/api/evidence/", "ip": None}}
    )
    audit_seal_pending()
    write_checkpoint(reason="test")
    sql, params, expected = TAMPERS[kind]

    tamper(_jsonb(sql), params())

    fast, reference = _both_verdicts()
    assert fast == reference
    problems = verify_trail().problems
    if expected is None:
        assert problems == [] and fast.intact
    else:
        assert problems and problems[0].startswith(expected), problems


@pytest.mark.django_db
def test_a_seal_made_with_another_key_is_named_at_the_first_keyed_seal_by_both_paths():
    _sealed(3)
    fast = check_stored_chain(stored_rows(), key=b"another key")
    reference = check_chain(_sealer_rows(), key=b"another key")

    assert fast == reference
    assert fast.broken is not None and fast.broken.sequence == 1 and "key mismatch" in fast.broken.reason


@pytest.mark.django_db
def test_an_unkeyed_seal_appended_after_keyed_ones_is_named_by_both_paths():
    _sealed(2)
    forged = audit_record(action="evidence_submitted", object_repr="forged")
    row = AuditEvent.objects.filter(pk=forged.pk).values(*EVENT_HASHED_FIELDS).get()
    head = AuditSeal.objects.get(sequence=2)
    row.update(sequence=3, prev_hash=head.hash)
    AuditSeal.objects.bulk_create(
        [
            AuditSeal(
                sequence=3,
                event=forged,
                prev_hash=head.hash,
                hash=compute_hash(row, scheme="sha256"),
                scheme="sha256",
                sealed_at=head.sealed_at,
            )
        ]
    )

    fast, reference = _both_verdicts()
    assert fast == reference
    assert fast.broken is not None and fast.broken.sequence == 3 and "unkeyed seal" in fast.broken.reason


@pytest.mark.django_db
def test_the_chain_is_read_in_batches_of_the_size_asked_with_progress_after_each(django_assert_num_queries):
    _sealed(10)
    seen: list[int] = []

    with django_assert_num_queries(4):  # 3 + 3 + 3 + 1 rows: four bounded reads, never the whole chain at once
        rows = list(stored_rows(batch_size=3, progress=seen.append))

    assert [row[0] for row in rows] == list(range(1, 11))
    assert seen == [3, 6, 9, 10]
    with django_assert_num_queries(4):  # the checkpoint writer's reader reads alike
        assert [row["sequence"] for row in chain_rows(batch_size=3)] == list(range(1, 11))


@pytest.mark.django_db
def test_verify_audit_prints_its_progress_on_standard_error_when_asked(capsys):
    _sealed(7)

    call_command("verify_audit", "--batch-size", "2", "--progress", "4")

    captured = capsys.readouterr()  # batches end at 2, 4, 6, 7: the line comes once 4 events verified
    assert "OK: 7 events sealed" in captured.out
    assert [line.split(" (")[0] for line in captured.err.splitlines()] == ["verified 4 events"]


@pytest.mark.django_db
def test_verify_audit_refuses_a_negative_progress_interval():
    with pytest.raises(CommandError, match="--progress must be 0"):
        call_command("verify_audit", "--progress", "-5")


def test_a_row_with_stored_json_hashes_as_the_decoded_row_does():
    decoded = {name: "" for name in EVENT_HASHED_FIELDS} | {"sequence": 1, "prev_hash": GENESIS_HASH}
    decoded.update(occurred_at="2026-01-01T00:00:00+00:00", changes={"b": [1, 2.5], "a": "é"}, context=None)
    stored = decoded | {"changes": StoredJSON('{"b": [1, 2.5], "a": "é"}'), "context": StoredJSON(None)}

    assert hash_input(stored) == hash_input(decoded)
    assert quick_hash_input(stored) == hash_input(decoded)
