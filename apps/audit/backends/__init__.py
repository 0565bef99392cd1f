"""Database backends that write the audit trail's queued events just before a transaction commits.

Automatic capture queues a transaction's events on its connection (`apps.audit.queue.queue_events`) and these
backends write them, numbered, chained and in one multi-row INSERT, as the first step of COMMIT: the events
commit with the changes they describe, or not at all. Settings select them in place of Django's own backends
(`AUDITED_ENGINES`); with any other backend the events are written at once, as they are queued.
"""

from __future__ import annotations

import contextlib

# Django's backend -> the same backend writing queued audit events before COMMIT.
AUDITED_ENGINES = {
    "django.db.backends.sqlite3": "apps.audit.backends.sqlite3",
    "django.db.backends.postgresql": "apps.audit.backends.postgresql",
}


class FlushBeforeCommit:
    """Mixin for a DatabaseWrapper: write the audit events queued in this transaction before COMMIT.

    A savepoint needs nothing: each savepoint queues its events apart (`apps.audit.queue`), so rolling it back
    drops exactly its own, and events written early from inside a savepoint that rolls back are written again.
    """

    # `apps.audit.queue` queues events only on connections that promise to write them before COMMIT.
    audit_flushes_before_commit = True

    def commit(self) -> None:
        from apps.audit.queue import commit_with_queued_events

        try:
            commit_with_queued_events(self, super().commit)  # type: ignore[arg-type, misc]
        except BaseException:
            # Nothing of the transaction may commit without its events: undo it, then report the error.
            with contextlib.suppress(Exception):  # a broken connection is closed by Django's atomic()
                self.rollback()  # type: ignore[attr-defined]
            raise


def audited_engine(engine: str) -> str:
    """Return the audited variant of a Django database backend, or the backend itself if there is none."""
    return AUDITED_ENGINES.get(engine, engine)


__all__ = ["AUDITED_ENGINES", "FlushBeforeCommit", "audited_engine"]
