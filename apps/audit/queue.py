"""A transaction's events, queued on its database connection and written together just before it commits.

Capture queues each save's events (`queue_events`); the audited database backends write the queue as the first step
of COMMIT (`commit_with_queued_events`); a read of the trail, a domain event or a long queue write it earlier.
Writing (numbering, chaining, inserting) is `apps.audit.chain`'s.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from . import chain
from .models import AuditEvent
from .savepoints import SavepointMark, savepoint_mark
from .serialization import json_safe

# Queued events are written early once this many wait in one transaction (bounds memory in long imports).
QUEUE_LIMIT = 1000


class _Queue:
    """Events queued in one savepoint of a transaction, oldest first.

    It sits in the connection's list of commit hooks (as a no-op) so that Django drops it, events and all, when
    that savepoint or the whole transaction rolls back: only events of changes that stay are ever written.
    `written` keeps events written early from inside a deeper savepoint (a read of the trail there, a long
    import): rolling that savepoint back removes their rows but not this queue, so they are written again.
    """

    __slots__ = ("events", "index", "written")

    def __init__(self, index: int) -> None:
        self.events: list[AuditEvent] = []
        self.index = index
        self.written: list[tuple[SavepointMark, list[AuditEvent]]] = []

    def __call__(self) -> None:
        return None


def _open_queue(connection: BaseDatabaseWrapper) -> _Queue:
    # The newest queue takes more events while it is still in the hook list and was opened in the same
    # savepoint; otherwise a new one starts after it, so queues stay in the order their events happened.
    queue: _Queue | None = getattr(connection, "_rc_audit_queue", None)
    hooks = connection.run_on_commit
    if queue is not None and queue.index < len(hooks):
        sids, hook = hooks[queue.index][:2]
        if hook is queue and sids == set(connection.savepoint_ids):
            return queue
    queue = _Queue(len(hooks))
    connection.on_commit(queue)
    connection._rc_audit_queue = queue  # type: ignore[attr-defined]
    return queue


def note_audited_write(connection: BaseDatabaseWrapper) -> None:
    """Count an audited write (or domain event) on `connection`: a row read under lock before it may have changed
    since (`apps.audit.capture.remember_locked_read`)."""
    connection._rc_audit_writes = getattr(connection, "_rc_audit_writes", 0) + 1  # type: ignore[attr-defined]


def audited_writes(connection: BaseDatabaseWrapper) -> int:
    """How many audited writes `note_audited_write` has counted on `connection`."""
    return getattr(connection, "_rc_audit_writes", 0)


def queue_events(events: list[AuditEvent], *, using: str | None = None) -> None:
    """Queue JSON-safe events to be written just before the caller's transaction commits.

    Capture calls this once per save: the events of a transaction are then numbered, chained and inserted
    together (one multi-row INSERT, one read of the chain head), before COMMIT, by the audited database backend
    (apps.audit.backends). They are written earlier when the trail is read on this connection, when
    `QUEUE_LIMIT` events wait, or when a domain event is appended; at once when no transaction is open or the
    backend cannot write before COMMIT.
    """
    if not events:
        return
    alias = using or router.db_for_write(AuditEvent)
    connection = connections[alias]
    note_audited_write(connection)
    if not (connection.in_atomic_block and getattr(connection, "audit_flushes_before_commit", False)):
        append_events(events, using=alias, safe=True)
        return
    now = timezone.now()
    for event in events:
        event.occurred_at = event.occurred_at or now
    _open_queue(connection).events.extend(events)
    waiting = getattr(connection, "_rc_audit_waiting", 0) + len(events)
    connection._rc_audit_waiting = waiting  # type: ignore[attr-defined]
    if waiting >= QUEUE_LIMIT:
        flush_queued_events(connection)


_Entry = tuple[set[str], _Queue]  # a queue and the savepoints that were open when it was opened


def _may_have_queued(connection: BaseDatabaseWrapper) -> bool:
    # Events wait in a queue, or were written early inside a savepoint that may have rolled back since.
    return bool(getattr(connection, "_rc_audit_waiting", 0) or getattr(connection, "_rc_audit_revocable", False))


def _take_queued(connection: BaseDatabaseWrapper) -> tuple[list[_Entry], list[AuditEvent]]:
    if not _may_have_queued(connection):
        return [], []
    hooks = connection.run_on_commit
    entries = [(entry[0], entry[1]) for entry in hooks if type(entry[1]) is _Queue]
    events: list[AuditEvent] = []
    if any(queue.written for _, queue in entries):
        _revive_rolled_back(connection, entries, {id(entry[1]): entry[0] for entry in hooks})
    elif not entries:  # what was queued was rolled back with its savepoint or transaction
        connection._rc_audit_revocable = False  # type: ignore[attr-defined]
    entries = [(sids, queue) for sids, queue in entries if queue.events]
    if not entries:
        connection._rc_audit_waiting = 0  # type: ignore[attr-defined]
    for _, queue in entries:
        events.extend(queue.events)
    return entries, events


def _revive_rolled_back(connection: BaseDatabaseWrapper, entries: list[_Entry], hooks: dict[int, set[str]]) -> None:
    # Events written early inside a savepoint that has rolled back since go back to the front of their queue
    # (they are older than what it took since); those whose savepoints can no longer roll back are forgotten.
    live = set(connection.savepoint_ids)
    revocable = False
    for queue_sids, queue in entries:
        again: list[AuditEvent] = []
        kept = []
        for marker, written in queue.written:
            marker_sids = hooks.get(id(marker))
            if marker_sids is None:
                again.extend(written)
            elif (marker_sids - queue_sids) & live:
                kept.append((marker, written))
        queue.written = kept
        queue.events[:0] = again
        revocable = revocable or bool(kept)
    connection._rc_audit_revocable = revocable  # type: ignore[attr-defined]


def _written(connection: BaseDatabaseWrapper, entries: list[_Entry]) -> None:
    # Only once the events are written: if writing fails they stay queued for the transaction's next attempt.
    # Written from inside a savepoint their queue is not in (sids differ), they are kept until it cannot roll back.
    # (During COMMIT, outside the atomic block, nothing can roll back alone any more.)
    in_block = connection.in_atomic_block
    current = set(connection.savepoint_ids)
    marker: SavepointMark | None = None
    if not in_block:
        connection._rc_audit_revocable = False  # type: ignore[attr-defined]
    for sids, queue in entries:
        if in_block and sids != current:
            if marker is None:
                marker = savepoint_mark(connection)
            queue.written.append((marker, queue.events))
            connection._rc_audit_revocable = True  # type: ignore[attr-defined]
        queue.events = []
    connection._rc_audit_waiting = 0  # type: ignore[attr-defined]


def flush_queued_events(connection: BaseDatabaseWrapper, *, then: list[AuditEvent] | None = None) -> None:
    """Write the events queued on `connection` (and `then` after them) in its open transaction."""
    entries, events = _take_queued(connection)
    if then:
        events.extend(then)
    if events:
        chain.write(connection, events)
    _written(connection, entries)


def commit_with_queued_events(connection: BaseDatabaseWrapper, commit: Callable[[], None]) -> None:
    """Write the events queued on `connection`, then `commit()`: the audited backends' COMMIT.

    On PostgreSQL the append and the COMMIT travel together in one query string (one round trip): if the append
    fails, PostgreSQL skips the COMMIT and the error is raised here.
    """
    entries, events = _take_queued(connection)
    if not events:
        commit()
        return
    chain.write(connection, events, then_commit=True)
    commit()
    _written(connection, entries)


def flush_before_read(using: str) -> None:
    """Write the events queued on `using` so that a read of the trail in this transaction sees them."""
    connection = connections[using]
    if _may_have_queued(connection) and not connection.autocommit:
        flush_queued_events(connection)


def append_events(events: list[AuditEvent], *, using: str | None = None, safe: bool = False) -> list[AuditEvent]:
    """Number, chain and insert `events` now, in the caller's transaction (one of their own when there is none).

    Events queued earlier in the transaction are written first, so the chain keeps the order things happened.
    `safe` says the events' changes and context are already JSON-safe (as draft_event makes them).
    """
    if not events:
        return events
    alias = using or router.db_for_write(AuditEvent)
    connection = connections[alias]
    note_audited_write(connection)
    if not safe:
        for event in events:
            event.changes = json_safe(event.changes or {})
            event.context = json_safe(event.context or {})
    with transaction.atomic(using=alias, savepoint=False):
        flush_queued_events(connection, then=events)
    return events
