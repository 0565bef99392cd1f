"""The hash chain: append events under a lock on the chain head (SQLite: in Python; PostgreSQL: one statement per
batch), compute hashes, and check a run of events. A transaction's events wait in `apps.audit.queue` until then."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from psycopg import ClientCursor, generators, pq
from psycopg import errors as pg_errors

from .constants import CHAIN_LOCK_KEY, GENESIS_HASH
from .models import AuditEvent
from .savepoints import SavepointMark, in_current_savepoint, savepoint_alive, savepoint_mark
from .serialization import CanonicalJSON, canonical_json, canonical_json_text, json_safe

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
_text = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str (C when available)


def _number(value: int | None) -> str:
    return "null" if value is None else str(int(value))


@dataclass(slots=True)
class _HashParts:
    """An event's canonical JSON in pieces around the values only the chain decides (previous hash, sequence).

    The text is before + changes + ',"context":' + context + after + '"<prev_hash>"' + middle + '<sequence>}':
    exactly canonical_json() of the event's payload (keys sorted, no spaces; tests/audit/test_chain_hash.py).
    """

    before: str
    changes: str
    context: str
    after: str
    middle: str

    def hash(self, prev_hash: str, sequence: int) -> str:
        # The same expression as the PostgreSQL functions audit_append_events and audit_append_event (0005, 0008).
        text = f'{self.before}{self.changes},"context":{self.context}{self.after}"{prev_hash}"{self.middle}{sequence}}}'
        return hashlib.sha256(text.encode()).hexdigest()


def _hash_parts(event: AuditEvent) -> _HashParts:
    # Written directly rather than through json.dumps of a dict: this runs once per event.
    v = event.__dict__
    changes, context = v["changes"], v["context"]
    return _HashParts(
        before=(
            f'{{"action":{_text(v["action"])},"actor_ip":{_text(v["actor_ip"])},'
            f'"actor_name":{_text(v["actor_name"])},"actor_user_id":{_number(v["actor_user_id"])},"changes":'
        ),
        changes=changes if type(changes) is CanonicalJSON else canonical_json_text(changes) if changes else "{}",
        context=canonical_json_text(context) if context else "{}",
        after=(
            f',"object_id":{_text(v["object_id"])},"object_repr":{_text(v["object_repr"])},'
            f'"object_type":{_text(v["object_type"])},"occurred_at":{_text(json_safe(v["occurred_at"]))},'
            '"prev_hash":'
        ),
        middle=f',"request_id":{_text(v["request_id"])},"sequence":',
    )


@dataclass(slots=True)
class _CachedHead:
    mark: SavepointMark
    sequence: int
    hash: str


def _cached_head(connection: BaseDatabaseWrapper) -> _CachedHead | None:
    # While the mark placed after the last append is alive, the events appended before it are still in the
    # transaction and the chain lock taken before it is still held (no transaction open: autocommit is on).
    cached: _CachedHead | None = getattr(connection, "_rc_audit_head", None)
    if cached is not None and savepoint_alive(connection, cached.mark):
        return cached
    return None


def _django_must_see(connection: BaseDatabaseWrapper) -> bool:
    # The trail's own statements bypass Django's cursor (SQLite: _driver_direct; PostgreSQL: _libpq_direct) only
    # when nobody watches it: with DEBUG, in tests that count queries, or with an execute wrapper installed they
    # go through Django's cursor and appear in connection.queries and the wrappers like any other.
    return connection.queries_logged or bool(connection.execute_wrappers)


def _driver_direct(connection: BaseDatabaseWrapper) -> bool:
    # On SQLite the trail's own two statements (head, insert) go straight to the driver's connection: Django's
    # cursor wrapper costs about as much as the statement itself there. Errors are still Django's
    # (wrap_database_errors).
    return connection.vendor == "sqlite" and not _django_must_see(connection) and connection.connection is not None


def _lock_and_read_head(connection: BaseDatabaseWrapper, cached: _CachedHead | None) -> tuple[int, str]:
    if cached is not None:
        return cached.sequence, cached.hash
    # SQLite needs no lock: BEGIN IMMEDIATE already serialises writers (PostgreSQL: _write_postgresql).
    sql = _head_sql(connection)
    if _driver_direct(connection):
        with connection.wrap_database_errors:
            head = connection.connection.execute(sql).fetchone()
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            head = cursor.fetchone()
    return (head[0], head[1]) if head is not None and head[0] is not None else (0, GENESIS_HASH)


@functools.cache
def _head_sql_of(vendor_table: str) -> str:
    return f"SELECT sequence, hash FROM {vendor_table} ORDER BY sequence DESC LIMIT 1"  # noqa: S608


def _head_sql(connection: BaseDatabaseWrapper) -> str:
    return _head_sql_of(connection.ops.quote_name(AuditEvent._meta.db_table))


_insert_sql_by_vendor: dict[str, str] = {}


def _insert_sql(connection: BaseDatabaseWrapper) -> str:
    sql = _insert_sql_by_vendor.get(connection.vendor)
    if sql is None:
        sql = _insert_sql_by_vendor[connection.vendor] = _build_insert_sql(connection)
    return sql


@functools.cache
def _driver_sql(sql: str) -> str:
    return sql.replace("%s", "?")  # sqlite3's own placeholders


def _build_insert_sql(connection: BaseDatabaseWrapper) -> str:
    opts = AuditEvent._meta
    columns = ", ".join(connection.ops.quote_name(f.column) for f in opts.concrete_fields)
    placeholders = ", ".join("%s" for _ in opts.concrete_fields)  # SQLite (PostgreSQL: _write_postgresql)
    return f"INSERT INTO {connection.ops.quote_name(opts.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608


@functools.cache
def _row_getter() -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    return operator.itemgetter(*(field.attname for field in AuditEvent._meta.concrete_fields))


def _datetime_adapter(connection: BaseDatabaseWrapper) -> Callable[[dt.datetime], Any]:
    adapt = connection.ops.adapt_datetimefield_value
    if connection.timezone is not dt.UTC:
        return adapt

    def adapt_utc(value: dt.datetime) -> Any:
        # What Django's adapter gives for a UTC datetime on a UTC connection, without its settings lookups.
        return str(value.replace(tzinfo=None)) if value.tzinfo is dt.UTC else adapt(value)

    return adapt_utc


def _insert(connection: BaseDatabaseWrapper, events: list[AuditEvent], parts: list[_HashParts]) -> None:
    # A plain INSERT of a batch (SQLite): the ORM's bulk_create costs several times more.
    adapt_datetime = _datetime_adapter(connection)
    row_of = _row_getter()
    rows = []
    when = text = None
    for event, part in zip(events, parts, strict=True):
        values = event.__dict__.copy()
        values["changes"], values["context"] = part.changes, part.context  # the JSON text that was hashed
        if event.occurred_at is not when:  # a transaction's events mostly share one time
            when = event.occurred_at
            text = adapt_datetime(when)
        values["occurred_at"] = text
        rows.append(row_of(values))
    sql = _insert_sql(connection)
    if _driver_direct(connection):
        with connection.wrap_database_errors:
            connection.connection.executemany(_driver_sql(sql), rows)
    else:
        with connection.cursor() as cursor:
            if len(rows) == 1:
                cursor.execute(sql, rows[0])
            else:
                cursor.executemany(sql, rows)
    for event in events:
        event._state.adding = False
        event._state.db = connection.alias


def _remember_head(connection: BaseDatabaseWrapper, cached: _CachedHead | None, sequence: int, head_hash: str) -> None:
    if not connection.in_atomic_block:
        return  # written during COMMIT: nothing follows in this transaction
    if cached is not None and in_current_savepoint(connection, cached.mark):
        cached.sequence, cached.hash = sequence, head_hash
        return
    connection._rc_audit_head = _CachedHead(savepoint_mark(connection), sequence, head_hash)  # type: ignore[attr-defined]


def _prepare(events: list[AuditEvent]) -> list[_HashParts]:
    now = timezone.now()
    for event in events:
        event.occurred_at = event.occurred_at or now
    return [_hash_parts(event) for event in events]


def write(connection: BaseDatabaseWrapper, events: list[AuditEvent], *, then_commit: bool = False) -> None:
    """Number, chain and insert JSON-safe events, in the connection's open transaction (`apps.audit.queue`).

    `then_commit`: the caller commits right after; on PostgreSQL the COMMIT then goes in the same round trip
    (Django's commit() finds the transaction committed and only does its own bookkeeping).
    """
    parts = _prepare(events)
    if connection.vendor == "postgresql":
        _write_postgresql(connection, events, parts, then_commit=then_commit)
        return
    cached = _cached_head(connection)
    sequence, previous = _lock_and_read_head(connection, cached)
    for event, part in zip(events, parts, strict=True):
        sequence += 1
        event.sequence = sequence
        event.prev_hash = previous
        event.hash = previous = part.hash(previous, sequence)
    for start in range(0, len(events), _INSERT_BATCH_SIZE):
        end = start + _INSERT_BATCH_SIZE
        _insert(connection, events[start:end], parts[start:end])
    _remember_head(connection, cached, sequence, previous)


_APPEND_SQL = "SELECT first_sequence, first_prev_hash, hashes FROM audit_append_events(%s, %s, %s::jsonb)"
# One event: its values as parameters (migration 0008), no JSON array to encode and parse.
_APPEND_ONE_SQL = (
    "SELECT first_sequence, first_prev_hash, hashes FROM audit_append_event("
    "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# The append and the COMMIT as one query string (Django's client-side-binding cursor sends it with the simple
# query protocol, which runs the statements in turn and stops at the first error): one round trip.
_COMMIT_SUFFIX = "; COMMIT"


def _row(part: _HashParts, values: dict[str, Any]) -> list[Any]:
    # The parameters of audit_append_event, and a row of audit_append_events' array, in the functions' order.
    return [
        part.before,
        part.changes,
        part.context,
        part.after,
        part.middle,
        json_safe(values["occurred_at"]),
        values["actor_user_id"],
        values["actor_name"],
        values["actor_ip"],
        values["request_id"],
        values["action"],
        values["object_type"],
        values["object_id"],
        values["object_repr"],
    ]


def _write_postgresql(
    connection: BaseDatabaseWrapper, events: list[AuditEvent], parts: list[_HashParts], *, then_commit: bool = False
) -> None:
    # One statement per batch (functions from migrations 0005 and 0008): it takes a transaction-level advisory
    # lock, held to the end of the transaction, reads the head, then chains and inserts the events. Appenders
    # queue on the lock, so the chain never forks and sequence numbers follow commit order. Several events travel
    # as one JSON array of rows (one text parameter: far cheaper to send than an array per column); a single one
    # as parameters. With `then_commit` the transaction's COMMIT goes in the same round trip.
    if len(events) == 1:
        sql, params = _APPEND_ONE_SQL, [CHAIN_LOCK_KEY, GENESIS_HASH, *_row(parts[0], events[0].__dict__)]
    else:
        rows = [_row(part, event.__dict__) for part, event in zip(parts, events, strict=True)]
        payload = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        sql, params = _APPEND_SQL, [CHAIN_LOCK_KEY, GENESIS_HASH, payload]
    direct = _libpq_direct(connection)
    if direct is not None:
        first_sequence, previous, hashes = _append_via_libpq(connection, direct, sql, params, then_commit=then_commit)
    else:
        with connection.cursor() as cursor:
            # Server-side binding (an OPTIONS choice) sends one statement per query: then Django's COMMIT follows.
            if then_commit and isinstance(cursor.cursor, ClientCursor):
                sql += _COMMIT_SUFFIX
            cursor.execute(sql, params)
            first_sequence, previous, hashes = cursor.fetchone()
    for offset, (event, event_hash) in enumerate(zip(events, hashes, strict=True)):
        event.sequence = first_sequence + offset
        event.prev_hash = previous
        event.hash = previous = event_hash
        event._state.adding = False
        event._state.db = connection.alias


_INTRANS = pq.TransactionStatus.INTRANS
_TUPLES_OK = pq.ExecStatus.TUPLES_OK
_FATAL_ERROR = pq.ExecStatus.FATAL_ERROR


def _libpq_direct(connection: BaseDatabaseWrapper) -> tuple[Any, Any] | None:
    """The psycopg connection and its libpq quoting, to send the append directly as one query string; None for
    Django's cursor: when Django must see the statement (`_django_must_see`), or no transaction is open on the
    server.

    Django's client-side-binding cursor cost about 0.1 ms of Python per append, more than the query's own.
    """
    if _django_must_see(connection):
        return None
    raw = connection.connection
    if raw is None or raw.pgconn.transaction_status != _INTRANS:
        return None
    kept = connection.__dict__.get("_rc_audit_libpq")
    if kept is None or kept[0] is not raw:  # literals are encoded as UTF-8: the connection must expect that
        escaping = pq.Escaping(raw.pgconn) if raw.info.encoding == "utf-8" else None
        kept = connection._rc_audit_libpq = (raw, escaping)  # type: ignore[attr-defined]
    return kept if kept[1] is not None else None


@functools.cache
def _sql_pieces(sql: str) -> tuple[bytes, ...]:
    return tuple(piece.encode() for piece in sql.split("%s"))  # the text around each parameter


_COMMIT_BYTES = _COMMIT_SUFFIX.encode()


def _literal(escaping: pq.abc.Escaping, value: Any) -> bytes:
    if value is None:
        return b"NULL"
    if type(value) is int:
        return int.__repr__(value).encode()
    if "\x00" in value:  # libpq would stop quoting at it; psycopg refuses it, as here
        raise pg_errors.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    return escaping.escape_literal(value.encode())


def run_via_libpq(connection: BaseDatabaseWrapper, raw: Any, query: bytes, *, then_commit: bool) -> list[Any]:
    """Run `query` (literal values, from `_literal`) with the simple query protocol on `raw`, `connection`'s psycopg
    connection (`_libpq_direct`), with the COMMIT in the same string when `then_commit`; return libpq's results.

    The statements run in turn and stop at the first error, which is raised as Django's (nothing after it runs,
    the COMMIT included).
    """
    connection.validate_thread_sharing()
    pgconn = raw.pgconn
    with connection.wrap_database_errors:
        with raw.lock:
            pgconn.send_query(query + _COMMIT_BYTES if then_commit else query)
            results = raw.wait(generators.execute(pgconn))
        for result in results:
            if result.status == _FATAL_ERROR:
                raise pg_errors.error_from_result(result, encoding="utf-8")
    return results


def _append_via_libpq(
    connection: BaseDatabaseWrapper, direct: tuple[Any, Any], sql: str, params: list[Any], *, then_commit: bool
) -> tuple[int, str, list[str]]:
    # The statements Django's cursor would send, with the same literals (quoted by libpq), run as one query
    # string: with `then_commit` the COMMIT follows in the same round trip and is skipped if the append fails.
    raw, escaping = direct
    pieces = _sql_pieces(sql)
    with connection.wrap_database_errors:
        query = [pieces[0]]
        for value, piece in zip(params, pieces[1:], strict=True):
            query.append(_literal(escaping, value))
            query.append(piece)
    first = run_via_libpq(connection, raw, b"".join(query), then_commit=then_commit)[0]
    if first.status != _TUPLES_OK:
        with connection.wrap_database_errors:
            raise pg_errors.InternalError(f"the audit append returned {pq.ExecStatus(first.status).name}")
    hashes = first.get_value(0, 2)
    return int(first.get_value(0, 0)), first.get_value(0, 1).decode(), hashes[1:-1].decode().split(",")


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
