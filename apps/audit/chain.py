"""The hash chain: append events under a lock on the chain head, compute hashes, and check a run of events."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from .constants import CHAIN_LOCK_KEY, GENESIS_HASH
from .models import AuditEvent
from .serialization import canonical_json, json_safe

# The fields the hash covers, in no particular order (the canonical JSON sorts them). `hash` is the output.
HASHED_FIELDS = (
    "sequence",
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
    "prev_hash",
)
_INSERT_BATCH_SIZE = 500


def compute_hash(event: AuditEvent | Mapping[str, Any]) -> str:
    """Return the SHA-256 of the event's canonical JSON, which includes the previous event's hash."""
    if isinstance(event, Mapping):
        payload = {name: event[name] for name in HASHED_FIELDS}
    else:
        payload = {name: getattr(event, name) for name in HASHED_FIELDS}
    payload["occurred_at"] = json_safe(payload["occurred_at"])
    return hashlib.sha256(canonical_json(payload)).hexdigest()


class _HeadMarker:
    """A no-op commit hook whose presence in the connection's hook list proves the cached head is current."""

    __slots__ = ()

    def __call__(self) -> None:
        return None


@dataclass(slots=True)
class _CachedHead:
    marker: _HeadMarker
    index: int
    sequence: int
    hash: str


def _cached_head(connection: BaseDatabaseWrapper) -> _CachedHead | None:
    # Django drops a savepoint's commit hooks when it rolls back and all hooks on a full rollback or a commit,
    # so while our marker is still in the list, the events we appended after it are still in the transaction
    # and the chain lock taken before it is still held.
    cached: _CachedHead | None = getattr(connection, "_rc_audit_head", None)
    if cached is None or not connection.in_atomic_block:
        return None
    hooks = connection.run_on_commit
    if cached.index < len(hooks) and hooks[cached.index][1] is cached.marker:
        return cached
    return None


def _lock_and_read_head(connection: BaseDatabaseWrapper, alias: str) -> tuple[int, str]:
    cached = _cached_head(connection)
    if cached is not None:
        return cached.sequence, cached.hash
    if connection.vendor == "postgresql":
        # Held to the end of the transaction: appenders queue here, so the chain never forks and sequence
        # numbers follow commit order. SQLite needs nothing: BEGIN IMMEDIATE already serialises writers.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    head = models.QuerySet(AuditEvent, using=alias).order_by("-sequence").values_list("sequence", "hash").first()
    return head if head is not None else (0, GENESIS_HASH)


def _remember_head(connection: BaseDatabaseWrapper, sequence: int, head_hash: str) -> None:
    cached = _cached_head(connection)
    if cached is not None and connection.run_on_commit[cached.index][0] == set(connection.savepoint_ids):
        cached.sequence, cached.hash = sequence, head_hash
        return
    marker = _HeadMarker()
    connection.on_commit(marker)
    connection._rc_audit_head = _CachedHead(marker, len(connection.run_on_commit) - 1, sequence, head_hash)  # type: ignore[attr-defined]


def append_events(events: list[AuditEvent], *, using: str | None = None) -> list[AuditEvent]:
    """Number, chain and insert `events` in the caller's transaction (one of their own when there is none)."""
    if not events:
        return events
    alias = using or router.db_for_write(AuditEvent)
    connection = connections[alias]
    now = timezone.now()
    with transaction.atomic(using=alias, savepoint=False):
        sequence, previous = _lock_and_read_head(connection, alias)
        for event in events:
            sequence += 1
            event.sequence = sequence
            event.occurred_at = event.occurred_at or now
            event.changes = json_safe(event.changes or {})
            event.context = json_safe(event.context or {})
            event.prev_hash = previous
            event.hash = previous = compute_hash(event)
        models.QuerySet(AuditEvent, using=alias).bulk_create(events, batch_size=_INSERT_BATCH_SIZE)
        _remember_head(connection, sequence, previous)
    return events


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where the chain first breaks, and why."""

    sequence: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of walking the chain."""

    count: int
    head_sequence: int
    head_hash: str
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def check_chain(rows: Iterable[Mapping[str, Any]]) -> ChainReport:
    """Walk rows in sequence order and report the first gap, previous-hash mismatch or hash mismatch."""
    expected, previous, count = 1, GENESIS_HASH, 0
    for row in rows:
        sequence = row["sequence"]
        if sequence != expected:
            reason = f"missing sequence (expected {expected}, found {sequence} next)"
            return ChainReport(count, expected - 1, previous, ChainBreak(expected, reason))
        if row["prev_hash"] != previous:
            reason = "previous-hash mismatch (the event before it was changed, removed or reordered)"
            return ChainReport(count, expected - 1, previous, ChainBreak(sequence, reason))
        if compute_hash(row) != row["hash"]:
            reason = "hash mismatch (the event's content was changed)"
            return ChainReport(count, expected - 1, previous, ChainBreak(sequence, reason))
        count += 1
        expected += 1
        previous = row["hash"]
    return ChainReport(count, expected - 1, previous, None)
