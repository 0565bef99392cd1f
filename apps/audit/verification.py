"""Verify the sealed chain and compare it with a signed checkpoint written outside the database.

The chain alone cannot show that its newest events were removed, the tables emptied, or that a writer who knows the
scheme appended events; the checkpoint can. `verify_trail()` names what is wrong, in the words `verify_audit` prints:
"missing N", "rewritten or forged from N", "truncated after N (the checkpoint says the head was M)", "key mismatch",
"no checkpoint yet".

A long chain is checked in ranges, each by a worker process of its own (its own database connection and reading-ahead
thread), so hashing, which holds Python's interpreter lock, uses every core: a range starts from the stored hash of the
seal before it, and the ranges are joined in order, so the first break is named exactly as one walk from the start
would name it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router
from django.db.models import Max, TextField
from django.db.models.functions import Cast

from .chain import (
    EVENT_HASHED_FIELDS,
    FORGED,
    JSON_FIELDS,
    MISSING,
    SEAL_FIELDS,
    ChainBreak,
    ChainReport,
    chain_key,
    check_stored_chain,
)
from .checkpoints import (
    Checkpoint,
    CheckpointError,
    checkpoint_storage,
    latest_checkpoint_name,
    parse_checkpoint,
    read_checkpoint,
)
from .constants import DEFAULT_BATCH_SIZE, GENESIS_HASH, HashScheme
from .models import AuditSeal
from .readahead import read_ahead
from .sealer import unsealed_events

# A chain this long or longer is checked in ranges by worker processes, one per core (fewer events: starting the
# workers would cost more than it saves).
PARALLEL_FROM_EVENTS = 100_000


@dataclass(slots=True)
class Verification:
    """What verify_audit found: the chain's state, the checkpoint it was compared with, and every problem."""

    report: ChainReport
    checkpoint: Checkpoint | None = None
    checkpoint_name: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _load(data: bytes | None, name: str, key: bytes, problems: list[str]) -> Checkpoint | None:
    if data is None:
        return None
    try:
        return parse_checkpoint(data, key=key)
    except CheckpointError as exc:
        problems.append(f"checkpoint {name}: {exc}")
        return None


def verify_trail(
    *,
    checkpoint_data: bytes | None = None,
    checkpoint_name: str = "",
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], object] | None = None,
    workers: int | None = None,
) -> Verification:
    """Walk the whole sealed chain and compare it with a checkpoint: the one given (`checkpoint_data`, e.g. a file
    an operator kept), else the latest in AUDIT_CHECKPOINT_STORAGE.

    The chain is read `batch_size` events per query, in bounded memory; `progress(last_sequence)` is called after
    each batch that verified (checked in ranges: each time the verified stretch from the start grows). `workers`
    processes check it in as many ranges (PostgreSQL, outside a transaction); by default one per core for a chain of
    PARALLEL_FROM_EVENTS or more, else one walk in this process."""
    key = chain_key()
    problems: list[str] = []
    if checkpoint_data is None:
        storage = checkpoint_storage()
        checkpoint_name = latest_checkpoint_name(storage) or ""
        if checkpoint_name:
            checkpoint_data = read_checkpoint(checkpoint_name, storage=storage)
    checkpoint = _load(checkpoint_data, checkpoint_name, key, problems)
    unkeyed_until = checkpoint.unkeyed_until if checkpoint is not None else None
    report = check_trail(
        key=key, unkeyed_until=unkeyed_until, batch_size=batch_size, progress=progress, workers=workers
    )
    report = ChainReport(
        report.count,
        report.head_sequence,
        report.head_hash,
        report.broken,
        unsealed=unsealed_events().count(),
        last_unkeyed=report.last_unkeyed,
    )
    if report.broken is not None:
        where = report.broken.sequence
        name = f"missing {where}" if report.broken.kind == MISSING else f"rewritten or forged from {where}"
        problems.append(f"{name}: {report.broken.reason}")
    if checkpoint is not None:
        problems.extend(_compare(report, checkpoint))
    elif checkpoint_data is None and report.head_sequence > 0:
        problems.append(
            "no checkpoint yet: nothing outside the database vouches for the head, so removed newest events would "
            "go unnoticed (beat writes one every AUDIT_CHECKPOINT_EVERY seconds; `manage.py seal_audit` writes one now)"
        )
    return Verification(report, checkpoint, checkpoint_name, problems)


def stored_rows(
    *,
    after: int = 0,
    upto: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    using: str | None = None,
    progress: Callable[[int], object] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Sealed rows after sequence `after` (up to `upto`, if given), in sequence order, as STORED_ROW tuples (the
    database's rows as they come, nothing built per row), for check_stored_chain().

    Reads `batch_size` rows per query (keyset pagination on the sequence), the next batch while the caller checks the
    current one (apps.audit.readahead), so memory stays bounded whatever the chain's length; `progress(last
    sequence)` is called after each batch. `changes` and `context` come as their stored JSON text, and on PostgreSQL
    the event's time as its ISO text too (parsed by datetime.fromisoformat(), several times cheaper than the
    driver's time-zone-aware loader, the same instant).
    """
    alias = using or router.db_for_read(AuditSeal)
    time_as_text = connections[alias].vendor == "postgresql"
    plain = [name for name in EVENT_HASHED_FIELDS if name not in JSON_FIELDS]
    seals = (
        AuditSeal.objects.using(alias)
        .order_by("sequence")
        .values_list(
            *SEAL_FIELDS,
            *(
                Cast(f"event__{name}", TextField()) if name == "occurred_at" and time_as_text else f"event__{name}"
                for name in plain
            ),
            *(Cast(f"event__{name}", TextField()) for name in JSON_FIELDS),
        )
    )

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        last = after
        while True:
            # The same query with or without `upto` (the planner's best one for it, whatever its statistics say
            # about a range), never asking for more rows than the sequences left up to `upto`.
            size = batch_size if upto is None else min(batch_size, upto - last)
            if size < 1:
                return
            batch = list(seals.filter(sequence__gt=last)[:size])
            complete = len(batch) == size
            if upto is not None and batch and batch[-1][0] > upto:  # gaps: rows past the range came in
                batch, complete = [row for row in batch if row[0] <= upto], False
            if batch:
                yield batch
            if not complete:
                return
            last = batch[-1][0]

    for batch in read_ahead(batches, using=alias):
        yield from batch
        if progress is not None:
            progress(batch[-1][0])


def check_trail(
    *,
    key: bytes,
    unkeyed_until: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], object] | None = None,
    workers: int | None = None,
    using: str | None = None,
) -> ChainReport:
    """The whole sealed chain checked from its first event (check_stored_chain), in one walk or, by `workers`
    processes, in ranges; the same report either way."""
    alias = using or router.db_for_read(AuditSeal)
    connection = connections[alias]
    if workers is None:
        workers = _cores()
        if workers > 1:  # the head is read only when it decides something
            head = AuditSeal.objects.using(alias).aggregate(head=Max("sequence"))["head"] or 0
            workers = workers if head >= PARALLEL_FROM_EVENTS else 1
    # Other connections do not see a transaction's uncommitted rows; SQLite runs in this process anyway.
    if workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
        ranges = _ranges(workers, alias)
        if len(ranges) > 1:
            return _check_ranges(ranges, key, unkeyed_until, batch_size, progress, alias)
    rows = stored_rows(batch_size=batch_size, progress=progress, using=alias)
    return check_stored_chain(rows, key=key, unkeyed_until=unkeyed_until)


@dataclass(frozen=True, slots=True)
class _Range:
    """Sequences after `after` up to `upto` (None: to the head), starting from `after`'s stored hash; `keyed_before`
    says whether a keyed seal comes at or before `after`."""

    after: int
    start_hash: str
    upto: int | None
    keyed_before: bool


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _ranges(count: int, alias: str) -> list[_Range]:
    """Up to `count` ranges of about equal length, each ending at a seal that exists (its stored hash starts the
    next range)."""
    seals = AuditSeal.objects.using(alias)
    head = seals.aggregate(head=Max("sequence"))["head"] or 0
    bounds: list[tuple[int, str]] = [(0, GENESIS_HASH)]
    for part in range(1, count):
        bound = (
            seals.filter(sequence__lte=head * part // count, sequence__gt=bounds[-1][0])
            .order_by("-sequence")
            .values_list("sequence", "hash")
            .first()
        )
        if bound is not None:
            bounds.append(bound)
    keyed = seals.filter(scheme=HashScheme.HMAC_SHA256)
    return [
        _Range(
            after,
            start_hash,
            bounds[index + 1][0] if index + 1 < len(bounds) else None,
            after > 0 and keyed.filter(sequence__lte=after).exists(),
        )
        for index, (after, start_hash) in enumerate(bounds)
    ]


def _check_range(part: _Range, key: bytes, unkeyed_until: int | None, batch_size: int, alias: str) -> ChainReport:
    """One range's walk, in a worker process (its connection closed after it)."""
    try:
        rows = stored_rows(after=part.after, upto=part.upto, batch_size=batch_size, using=alias)
        return check_stored_chain(
            rows,
            key=key,
            unkeyed_until=unkeyed_until,
            start=(part.after, part.start_hash),
            keyed_before=part.keyed_before,
        )
    finally:
        connections.close_all()


def _check_ranges(
    ranges: list[_Range],
    key: bytes,
    unkeyed_until: int | None,
    batch_size: int,
    progress: Callable[[int], object] | None,
    alias: str,
) -> ChainReport:
    """Check the ranges in worker processes and join their reports in sequence order: the first break, counted and
    named as one walk from the start would."""
    # Forked workers must not share this process's connections (one socket, two clients): close them first, Django
    # opens a new one when this process next queries. The workers open their own.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(ranges), mp_context=context) as pool:
        futures = [pool.submit(_check_range, part, key, unkeyed_until, batch_size, alias) for part in ranges]
        count, last_unkeyed = 0, 0
        for index, future in enumerate(futures):
            report = future.result()
            last_unkeyed = max(last_unkeyed, report.last_unkeyed)
            broken = report.broken
            if broken is None and index + 1 < len(ranges):
                broken = _seam_break(report, ranges[index + 1])
            if broken is not None:
                for rest in futures[index + 1 :]:
                    rest.cancel()
                return ChainReport(
                    count + report.count, report.head_sequence, report.head_hash, broken, last_unkeyed=last_unkeyed
                )
            count += report.count
            if progress is not None and report.count:
                progress(report.head_sequence)
    return ChainReport(count, report.head_sequence, report.head_hash, None, last_unkeyed=last_unkeyed)


def _seam_break(report: ChainReport, following: _Range) -> ChainBreak | None:
    """None when a range that verified ends where the next one started; else its last seal changed or vanished while
    the chain was being checked (seals are insert-only, so only someone bypassing that could do it)."""
    if (report.head_sequence, report.head_hash) == (following.after, following.start_hash):
        return None
    if report.head_sequence < following.after:
        expected = report.head_sequence + 1
        return ChainBreak(expected, f"missing sequence (expected {expected}, gone while verifying)", MISSING)
    return ChainBreak(
        following.after + 1, "previous-hash mismatch (the event before it was changed while verifying)", FORGED
    )


def _compare(report: ChainReport, checkpoint: Checkpoint) -> list[str]:
    """What the chain and a (verified) checkpoint disagree on."""
    head = checkpoint.head_sequence
    if report.broken is not None and report.broken.sequence <= head:
        return []  # the break, inside what the checkpoint vouches for, is the finding
    if report.head_sequence < head:
        return [f"truncated after {report.head_sequence} (the checkpoint says the head was {head})"]
    if head == 0:
        return []
    stored = AuditSeal.objects.filter(sequence=head).values_list("hash", flat=True).first()
    if stored != checkpoint.head_hash:
        return [
            f"rewritten or forged from {head} or before: sequence {head}'s hash differs from the checkpoint's "
            "(the chain up to it was recomputed)"
        ]
    return []
