"""Django's sqlite3 backend, writing the transaction's queued audit events before COMMIT."""

from django.db.backends.sqlite3 import base

from apps.audit.backends import FlushBeforeCommit


class DatabaseWrapper(FlushBeforeCommit, base.DatabaseWrapper):
    """The sqlite3 DatabaseWrapper with the audit trail's pre-commit write."""
