"""Large reads in constant memory: queries read through server-side cursors in one snapshot, each a chunk ahead.

A FETCH makes PostgreSQL compute the next rows of a cursor. Read in turn, the database waits while Python turns
rows into CSV and Python waits while the database computes: an export took the sum of both. Each stream is
therefore read by a helper thread one chunk ahead of its reader, so the two work at the same time. The helper only
continues the queryset's iterator, whose cursor the reader's thread opened (no connection is made or looked up in
the helper); psycopg serialises the use of the one connection between threads. Every helper is stopped and joined
before the snapshot's transaction ends.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from django.db import connection, transaction

from ..constants import STREAM_CHUNK_SIZE

_DONE = object()
# Chunks a helper may hold ready beyond the one being read: enough to keep the database busy, little memory.
_READ_AHEAD_CHUNKS = 2


class _ReadAhead:
    """The rows of an iterator, fetched chunk by chunk by a helper thread ahead of the reader."""

    def __init__(self, rows: Iterator[tuple[Any, ...]], chunk: int) -> None:
        self._rows = rows
        self._chunk = chunk
        self._ready: queue.Queue[Any] = queue.Queue(maxsize=_READ_AHEAD_CHUNKS)
        self._stop = threading.Event()
        # The first chunk is read here, in the reader's thread: it opens the cursor on the reader's connection.
        self._first = list(islice(rows, chunk))
        self._thread: threading.Thread | None = None
        if len(self._first) == chunk:
            self._thread = threading.Thread(target=self._fetch, name="report-read-ahead", daemon=True)
            self._thread.start()

    def _fetch(self) -> None:
        try:
            while not self._stop.is_set():
                block = list(islice(self._rows, self._chunk))
                if block:
                    self._put(block)
                if len(block) < self._chunk:
                    break
        except BaseException as exc:  # handed to the reader, who raises it
            self._put(exc)
            return
        self._put(_DONE)

    def _put(self, item: Any) -> None:
        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        yield from self._first
        if self._thread is None:
            return
        while True:
            item = self._ready.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item

    def close(self) -> None:
        """Stop the helper (it finishes the FETCH under way) and close the cursor."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()


class Snapshot:
    """The streams of one read: rows of querysets in chunks, read ahead on PostgreSQL (server-side cursors)."""

    def __init__(self, *, read_ahead: bool) -> None:
        self._read_ahead = read_ahead
        self._readers: list[_ReadAhead] = []

    def rows(self, queryset: Any) -> Iterator[tuple[Any, ...]]:
        """The rows of a `values_list` queryset, read once, in its order."""
        rows = queryset.iterator(chunk_size=STREAM_CHUNK_SIZE)
        if not self._read_ahead:
            return rows
        reader = _ReadAhead(rows, STREAM_CHUNK_SIZE)
        self._readers.append(reader)
        return iter(reader)

    def close(self) -> None:
        """Stop every helper; called before the snapshot's transaction ends, also when the reader gives up."""
        for reader in self._readers:
            reader.close()
        self._readers.clear()


@contextmanager
def read_snapshot() -> Iterator[Snapshot]:
    """Read every stream from one snapshot.

    On PostgreSQL: a REPEATABLE READ, READ ONLY transaction, so the side-by-side queries agree with each other and
    server-side cursors need no WITH HOLD copy; streams are read ahead. Inside a caller's transaction (tests) that
    transaction is used. SQLite needs nothing (and a transaction there would take the write lock): the merge skips
    rows of cases it does not see, so a change between two statements cannot derail it.
    """
    postgres = connection.vendor == "postgresql"
    snapshot = Snapshot(read_ahead=postgres)
    if not postgres or connection.in_atomic_block:
        try:
            yield snapshot
        finally:
            snapshot.close()
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield snapshot
        finally:
            snapshot.close()
