"""Large reads in constant memory: querysets streamed in chunks, every stream of a report from one snapshot.

A stream is `QuerySet.iterator(chunk_size=...)`: on PostgreSQL Django reads it through a server-side cursor, so
memory holds one chunk of rows whatever the size of the report; on SQLite the driver fetches in chunks the same
way. The side-by-side streams of a report share one REPEATABLE READ snapshot so that they agree with each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from ..constants import STREAM_CHUNK_SIZE


class Snapshot:
    """The streams of one read: the rows of querysets, in chunks (server-side cursors on PostgreSQL)."""

    def __init__(self, *, chunk_size: int = STREAM_CHUNK_SIZE) -> None:
        self.chunk_size = chunk_size
        self._streams: list[Iterator[Any]] = []

    def rows(self, queryset: QuerySet[Any, tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """The rows of a `values_list` queryset, read once, in its order."""
        rows = queryset.iterator(chunk_size=self.chunk_size)
        self._streams.append(rows)
        return rows

    def close(self) -> None:
        """Close every stream's cursor; called before the snapshot's transaction ends, also when the reader gives
        up before the end (a client that goes away mid-download)."""
        for rows in self._streams:
            close = getattr(rows, "close", None)
            if close is not None:
                close()
        self._streams.clear()


class CaseRows:
    """Rows `(case_id, ...)` of one stream in ascending case id, handed out one case at a time, while the cases are
    walked in the same order (a merge join): memory holds one case's rows."""

    __slots__ = ("_rows", "_next")

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self._rows = rows
        self._next: tuple[Any, ...] | None = next(rows, None)

    def take(self, case_id: int) -> list[tuple[Any, ...]]:
        """The rows of `case_id`; rows of cases before it (cases the walk skipped) are dropped."""
        found: list[tuple[Any, ...]] = []
        row = self._next
        while row is not None and row[0] <= case_id:
            if row[0] == case_id:
                found.append(row)
            row = next(self._rows, None)
        self._next = row
        return found


@contextmanager
def read_snapshot(*, chunk_size: int = STREAM_CHUNK_SIZE) -> Iterator[Snapshot]:
    """Read every stream from one snapshot.

    On PostgreSQL: a REPEATABLE READ, READ ONLY transaction, so the side-by-side queries agree with each other and
    server-side cursors need no WITH HOLD copy. Inside a caller's transaction (tests) that transaction is used.
    SQLite needs nothing (and a transaction there would take the write lock): the merge skips rows of cases it
    does not see, so a change between two statements cannot derail it.
    """
    snapshot = Snapshot(chunk_size=chunk_size)
    if connection.vendor != "postgresql" or connection.in_atomic_block:
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
