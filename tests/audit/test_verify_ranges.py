"""A long chain is checked in ranges by worker processes: the joined report is the one a single walk from the start
gives, the first break named at its own position whichever range it falls in, and the reading of a range stops at its
end."""

from __future__ import annotations

import hashlib
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.chain import EVENT_HASHED_FIELDS, ChainReport, chain_key, compute_hash
from apps.audit.checkpoints import write_checkpoint
from apps.audit.constants import GENESIS_HASH
from apps.audit.models import AuditEvent, AuditSeal
from apps.audit.sealer import audit_seal_pending, unsealed_events
from apps.audit.verification import check_trail, stored_rows, verify_trail
from tests.audit.helpers import tamper
from tests.factories.audit import AuditEventFactory

# Three ranges of a 12-event chain: (0, 4], (4, 8], (8, 12].
WORKERS = 3


@pytest.fixture(autouse=True)
def _empty_trail(request):
    """Each test's chain starts at sequence 1 (a transactional test's set-up may have written events already)."""
    if request.node.get_closest_marker("django_db"):
        if connection.vendor == "postgresql":
            tamper("TRUNCATE audit_seal, audit_event")
        else:
            tamper("DELETE FROM audit_seal")
            tamper("DELETE FROM audit_event")


def _seal_all() -> None:
    """Seal until nothing waits (another session's open transaction on the cluster may hold sealing back a moment)."""
    deadline = time.monotonic() + 60
    audit_seal_pending()
    while unsealed_events().exists():
        assert time.monotonic() < deadline, "the sealer never got past an open transaction"
        time.sleep(0.2)
        audit_seal_pending()


def _chain(n: int = 12) -> None:
    AuditEventFactory.create_batch(n)
    _seal_all()
    write_checkpoint(reason="test")


def _in_ranges_and_in_one_walk(key: bytes | None = None) -> tuple[ChainReport, ChainReport]:
    key = key or chain_key()
    return check_trail(key=key, workers=WORKERS), check_trail(key=key, workers=1)


def _event_at(sequence: int) -> int:
    return AuditSeal.objects.get(sequence=sequence).event_id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_intact_chain_checked_in_three_ranges_reports_as_one_walk_and_progress_follows_the_ranges():
    _chain()
    seen: list[int] = []

    result = verify_trail(workers=WORKERS, progress=seen.append)

    assert result.ok, result.problems
    assert seen == [4, 8, 12]  # one call as each range joins the verified stretch: three ranges, not one walk
    ranges, walk = _in_ranges_and_in_one_walk()
    assert ranges == walk and ranges.count == 12 and ranges.head_sequence == 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("sql", "params", "expected"),
    [
        (
            "UPDATE audit_event SET object_repr = 'rewritten' WHERE id = %s",
            lambda: [_event_at(6)],
            "rewritten or forged from 6: hash mismatch",
        ),
        ("DELETE FROM audit_seal WHERE sequence = %s", lambda: [5], "missing 5: missing sequence (expected 5, found 6"),
        ("DELETE FROM audit_seal WHERE sequence = %s", lambda: [8], "missing 8: missing sequence (expected 8, found 9"),
        (
            "UPDATE audit_seal SET prev_hash = %s WHERE sequence = %s",
            lambda: ["e" * 64, 9],
            "rewritten or forged from 9: previous-hash mismatch",
        ),
        (
            "UPDATE audit_seal SET hash = %s WHERE sequence = %s",
            lambda: ["f" * 64, 8],
            "rewritten or forged from 8: hash mismatch",
        ),
    ],
    ids=["event inside the second range", "first seal of a range", "last seal of a range", "link into the third range",
         "hash at a range's end"],
)  # fmt: skip
def test_a_break_inside_a_later_range_is_named_at_its_position_as_one_walk_names_it(sql, params, expected):
    _chain()

    tamper(sql, params())

    problems = verify_trail(workers=WORKERS).problems
    assert problems and problems[0].startswith(expected), problems
    ranges, walk = _in_ranges_and_in_one_walk()
    assert ranges == walk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_of_breaks_in_two_ranges_the_first_is_named_with_the_events_before_it_counted():
    _chain()
    tamper("UPDATE audit_event SET object_repr = 'rewritten' WHERE id IN (%s, %s)", [_event_at(10), _event_at(3)])

    ranges, walk = _in_ranges_and_in_one_walk()

    assert ranges == walk
    assert ranges.broken is not None and ranges.broken.sequence == 3 and ranges.count == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_another_key_is_named_a_key_mismatch_at_the_first_seal_though_every_range_fails():
    _chain()

    ranges, walk = _in_ranges_and_in_one_walk(key=b"another key")

    assert ranges == walk
    assert ranges.broken is not None and ranges.broken.sequence == 1 and "key mismatch" in ranges.broken.reason


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_plain_seals_from_before_the_key_verify_in_the_first_range_and_one_after_keyed_seals_is_forged_in_the_last():
    previous = GENESIS_HASH
    for sequence, event in enumerate(AuditEventFactory.create_batch(2), start=1):
        row = AuditEvent.objects.filter(pk=event.pk).values(*EVENT_HASHED_FIELDS).get()
        row.update(sequence=sequence, prev_hash=previous)
        seal_hash = compute_hash(row, scheme="sha256")
        AuditSeal.objects.bulk_create(
            [AuditSeal(sequence=sequence, event=event, prev_hash=previous, hash=seal_hash, scheme="sha256",
                       sealed_at=timezone.now())]
        )  # fmt: skip
        previous = seal_hash
    _chain(10)

    ranges, walk = _in_ranges_and_in_one_walk()
    assert ranges == walk and ranges.intact and ranges.last_unkeyed == 2

    event = AuditEventFactory(object_repr="forged")
    row = AuditEvent.objects.filter(pk=event.pk).values(*EVENT_HASHED_FIELDS).get()
    row.update(sequence=13, prev_hash=ranges.head_hash)
    plain = hashlib.sha256(compute_hash(row, scheme="sha256").encode()).hexdigest()  # any plain hash will do
    AuditSeal.objects.bulk_create(
        [AuditSeal(sequence=13, event=event, prev_hash=ranges.head_hash, hash=plain, scheme="sha256",
                   sealed_at=timezone.now())]
    )  # fmt: skip

    ranges, walk = _in_ranges_and_in_one_walk()
    assert ranges == walk
    assert ranges.broken is not None and ranges.broken.sequence == 13
    assert "unkeyed seal after keyed sealing began" in ranges.broken.reason


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_chain_is_checked_in_one_walk_here():
    _chain()
    seen: list[int] = []

    with transaction.atomic():  # other connections would not see what this transaction wrote
        report = check_trail(key=chain_key(), workers=WORKERS, batch_size=5, progress=seen.append)

    assert report.intact and report.count == 12
    assert seen == [5, 10, 12]  # batches of one walk


@pytest.mark.django_db
def test_a_range_is_read_up_to_its_end_in_batches_and_across_gaps():
    AuditEventFactory.create_batch(10)
    audit_seal_pending()

    def sequences(**kwargs: int) -> list[int]:
        return [row[0] for row in stored_rows(**kwargs)]

    assert sequences(after=2, upto=7, batch_size=2) == [3, 4, 5, 6, 7]
    assert sequences(after=7, upto=7) == []
    tamper("DELETE FROM audit_seal WHERE sequence IN (5, 7)")
    assert sequences(after=2, upto=7, batch_size=2) == [3, 4, 6]
    assert sequences(after=2, upto=8, batch_size=3) == [3, 4, 6, 8]
