"""The hash chain: append events under a lock on the chain head, compute hashes, and check a run of events."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from .constants import CHAIN_LOCK_KEY, GENESIS_HASH
from .models import AuditEvent
from .serialization import canonical_json, canonical_json_text, json_safe

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
_SORTED_HASHED_FIELDS = tuple(sorted(HASHED_FIELDS))
_JSON_FIELDS = ("changes", "context")
_INSERT_BATCH_SIZE = 500


def compute_hash(event: AuditEvent | Mapping[str, Any]) -> str:
    """Return the SHA-256 of the event's canonical JSON, which includes the previous event's hash."""
    if isinstance(event, Mapping):
        payload = {name: event[name] for name in HASHED_FIELDS}
    else:
        payload = {name: getattr(event, name) for name in HASHED_FIELDS}
    payload["occurred_at"] = json_safe(payload["occurred_at"])
    return hashlib.sha256(canonical_json(payload)).hexdigest()


_BEFORE_JSON = ("action", "actor_ip", "actor_name", "actor_user_id")  # keys sorting before "changes", "context"
_AFTER_JSON = ("object_id", "object_repr", "object_type", "occurred_at", "prev_hash", "request_id", "sequence")
assert _SORTED_HASHED_FIELDS == (*_BEFORE_JSON, *_JSON_FIELDS, *_AFTER_JSON)  # noqa: S101 - layout guard


def _hash_with_json(event: AuditEvent, json_texts: dict[str, str]) -> str:
    # The same bytes as canonical_json() of the payload (sorted keys, no spaces), spliced around the already
    # serialised changes and context so each is encoded once, for the hash and for storage alike.
    values = event.__dict__
    head = canonical_json_text({name: values[name] for name in _BEFORE_JSON})
    after = {name: values[name] for name in _AFTER_JSON}
    after["occurred_at"] = json_safe(after["occurred_at"])
    tail = canonical_json_text(after)
    text = f'{head[:-1]},"changes":{json_texts["changes"]},"context":{json_texts["context"]},{tail[1:]}'
    return hashlib.sha256(text.encode()).hexdigest()


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


def _lock_and_read_head(connection: BaseDatabaseWrapper, cached: _CachedHead | None) -> tuple[int, str]:
    if cached is not None:
        return cached.sequence, cached.hash
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Takes a transaction-level advisory lock, held to the end of the transaction, then reads the head:
            # appenders queue here, so the chain never forks and sequence numbers follow commit order
            # (function from migration 0004). SQLite needs no lock: BEGIN IMMEDIATE already serialises writers.
            cursor.execute("SELECT head_sequence, head_hash FROM audit_lock_chain_head(%s)", [CHAIN_LOCK_KEY])
        else:
            table = connection.ops.quote_name(AuditEvent._meta.db_table)
            cursor.execute(f"SELECT sequence, hash FROM {table} ORDER BY sequence DESC LIMIT 1")  # noqa: S608
        head = cursor.fetchone()
    return (head[0], head[1]) if head is not None and head[0] is not None else (0, GENESIS_HASH)


_insert_sql_by_vendor: dict[str, str] = {}


def _insert_sql(connection: BaseDatabaseWrapper) -> str:
    sql = _insert_sql_by_vendor.get(connection.vendor)
    if sql is None:
        sql = _insert_sql_by_vendor[connection.vendor] = _build_insert_sql(connection)
    return sql


def _build_insert_sql(connection: BaseDatabaseWrapper) -> str:
    opts = AuditEvent._meta
    columns = ", ".join(connection.ops.quote_name(f.column) for f in opts.concrete_fields)
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    placeholders = ", ".join(f"%s{cast}" if f.attname in _JSON_FIELDS else "%s" for f in opts.concrete_fields)
    return f"INSERT INTO {connection.ops.quote_name(opts.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608


def _insert(connection: BaseDatabaseWrapper, events: list[AuditEvent], json_texts: list[dict[str, str]]) -> None:
    # A plain INSERT: this runs once per audited save, and the ORM's bulk_create costs several times more.
    adapt_datetime = connection.ops.adapt_datetimefield_value
    attnames = [field.attname for field in AuditEvent._meta.concrete_fields]
    rows = []
    for event, texts in zip(events, json_texts, strict=True):
        values = {**event.__dict__, **texts, "occurred_at": adapt_datetime(event.occurred_at)}
        rows.append([values[name] for name in attnames])
    sql = _insert_sql(connection)
    with connection.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(sql, rows[0])
        else:
            cursor.executemany(sql, rows)
    for event in events:
        event._state.adding = False
        event._state.db = connection.alias


def _remember_head(connection: BaseDatabaseWrapper, cached: _CachedHead | None, sequence: int, head_hash: str) -> None:
    if cached is not None and connection.run_on_commit[cached.index][0] == set(connection.savepoint_ids):
        cached.sequence, cached.hash = sequence, head_hash
        return
    marker = _HeadMarker()
    connection.on_commit(marker)
    connection._rc_audit_head = _CachedHead(marker, len(connection.run_on_commit) - 1, sequence, head_hash)  # type: ignore[attr-defined]


def append_events(events: list[AuditEvent], *, using: str | None = None, safe: bool = False) -> list[AuditEvent]:
    """Number, chain and insert `events` in the caller's transaction (one of their own when there is none).

    `safe` says the events' changes and context are already JSON-safe (as draft_event makes them).
    """
    if not events:
        return events
    alias = using or router.db_for_write(AuditEvent)
    connection = connections[alias]
    now = timezone.now()
    json_texts = []
    for event in events:
        if not safe:
            event.changes = json_safe(event.changes or {})
            event.context = json_safe(event.context or {})
        json_texts.append(
            {name: canonical_json_text(value) if (value := getattr(event, name)) else "{}" for name in _JSON_FIELDS}
        )
    with transaction.atomic(using=alias, savepoint=False):
        cached = _cached_head(connection)
        sequence, previous = _lock_and_read_head(connection, cached)
        for event, texts in zip(events, json_texts, strict=True):
            sequence += 1
            event.sequence = sequence
            event.occurred_at = event.occurred_at or now
            event.prev_hash = previous
            event.hash = previous = _hash_with_json(event, texts)
        for start in range(0, len(events), _INSERT_BATCH_SIZE):
            end = start + _INSERT_BATCH_SIZE
            _insert(connection, events[start:end], json_texts[start:end])
        _remember_head(connection, cached, sequence, previous)
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
