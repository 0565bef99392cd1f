"""Reading ahead: while the caller works on one batch of a long read, the next batch is already being read.

verify_audit spends about a third of its time waiting for PostgreSQL to send the next batch of the chain (the server
renders each event's JSON as text), and two thirds hashing it. A thread with a database connection of its own reads
the next batches meanwhile, at most `depth` ahead, so memory stays bounded and the two overlap.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import TypeVar

from django.db import connections

T = TypeVar("T")

# How long the reading thread waits to hand over a batch before it looks whether the caller stopped reading.
_HANDOVER_SECONDS = 0.1


class _Done:
    """The reading thread's last word: the batches ran out, or reading failed with `error`."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def read_ahead(batches: Callable[[], Iterator[T]], *, using: str, depth: int = 2) -> Generator[T, None, None]:
    """Yield the batches that `batches()` reads from database `using`, read by a thread of its own on PostgreSQL.

    In this thread instead: on SQLite (it runs inside this process, there is no server's time to overlap) and inside
    a transaction (another connection would not see its uncommitted rows). A caller that stops early stops the
    reading thread, which closes its connection; an error in reading is raised here.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from batches()
        return
    ready: queue.Queue[T | _Done] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item: T | _Done) -> None:
        while not stop.is_set():
            try:
                ready.put(item, timeout=_HANDOVER_SECONDS)
                return
            except queue.Full:
                continue

    def read() -> None:
        try:
            for batch in batches():
                hand_over(batch)
                if stop.is_set():
                    return
            hand_over(_Done())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
            hand_over(_Done(exc))
        finally:
            connections[using].close()  # this thread's own connection

    reader = threading.Thread(target=read, name="audit-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item = ready.get()
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()
        reader.join()
