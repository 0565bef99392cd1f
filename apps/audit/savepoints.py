"""Marks that tell whether the savepoint (and transaction) they were placed in is still alive.

Django keeps a transaction's commit hooks in `connection.run_on_commit`, each with the savepoints open when it was
added; it drops a savepoint's hooks when that savepoint rolls back, and all of them when the transaction commits or
rolls back. A mark is a no-op hook: while it is still at its place in that list, nothing it was placed under has
rolled back. The trail uses marks for what it knows about the open transaction: the chain head it appended
(`apps.audit.chain`), queued events written early (`apps.audit.queue`), a row read under lock
(`apps.audit.capture.remember_locked_read`).
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper


class SavepointMark:
    """A no-op commit hook, and its place in the connection's hook list."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __call__(self) -> None:
        return None


def savepoint_mark(connection: BaseDatabaseWrapper) -> SavepointMark:
    """Place a mark in the current savepoint of `connection`'s open transaction."""
    mark = SavepointMark(len(connection.run_on_commit))
    connection.on_commit(mark)
    return mark


def savepoint_alive(connection: BaseDatabaseWrapper, mark: SavepointMark) -> bool:
    """Whether the savepoint `mark` was placed in is still alive (neither it nor its transaction has ended).

    During COMMIT, `autocommit` is still off but the transaction is ending: callers that must not trust a mark
    then check `connection.in_atomic_block` too.
    """
    hooks = connection.run_on_commit
    return not connection.autocommit and mark.index < len(hooks) and hooks[mark.index][1] is mark


def in_current_savepoint(connection: BaseDatabaseWrapper, mark: SavepointMark) -> bool:
    """Whether `mark` (alive) was placed in the savepoint that is current now."""
    return connection.run_on_commit[mark.index][0] == set(connection.savepoint_ids)
