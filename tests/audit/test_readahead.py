"""Reading ahead: the next batches of a long read come from a thread with a connection of its own (PostgreSQL, outside
a transaction), bounded, stopped and cleaned up when the caller stops, its errors raised in the caller."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from apps.audit.models import AuditSeal
from apps.audit.readahead import read_ahead


class _Reader:
    """Batches of numbers, noting in which thread and on which connection each was read."""

    def __init__(self, count: int, *, fail_after: int | None = None) -> None:
        self.count, self.fail_after = count, fail_after
        self.threads: set[str] = set()
        self.connections: list[Any] = []
        self.read = 0

    def __call__(self) -> Iterator[list[int]]:
        for number in range(self.count):
            if self.fail_after is not None and number == self.fail_after:
                raise ValueError("the database went away")
            AuditSeal.objects.exists()  # a query on this thread's connection
            self.threads.add(threading.current_thread().name)
            self.connections.append(connections["default"])
            self.read += 1
            yield [number]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_batches_come_in_order_from_a_thread_whose_connection_is_closed_after():
    reader = _Reader(7)

    assert list(read_ahead(reader, using="default")) == [[n] for n in range(7)]

    assert reader.threads == {"audit-read-ahead"}
    assert reader.connections[0] is not connections["default"] and reader.connections[0].connection is None
    assert not any(thread.name == "audit-read-ahead" for thread in threading.enumerate())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_caller_that_stops_early_stops_the_reading_thread_a_few_batches_ahead_at_most():
    reader = _Reader(1000)
    batches = read_ahead(reader, using="default", depth=2)

    assert next(batches) == [0]
    batches.close()

    assert reader.read <= 4  # the one taken, two waiting, one being handed over
    assert not any(thread.name == "audit-read-ahead" for thread in threading.enumerate())
    assert reader.connections[-1].connection is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_error_while_reading_ahead_is_raised_in_the_caller_after_the_batches_before_it():
    batches = read_ahead(_Reader(5, fail_after=2), using="default")

    assert next(batches) == [0] and next(batches) == [1]
    with pytest.raises(ValueError, match="the database went away"):
        next(batches)


@pytest.mark.django_db
def test_inside_a_transaction_or_on_sqlite_the_batches_are_read_in_the_callers_thread_and_connection():
    reader = _Reader(3)

    assert list(read_ahead(reader, using="default")) == [[0], [1], [2]]

    assert reader.threads == {threading.current_thread().name}
    assert all(used is connections["default"] for used in reader.connections)
