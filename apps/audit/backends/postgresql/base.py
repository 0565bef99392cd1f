"""Django's postgresql backend, writing the transaction's queued audit events before COMMIT."""

from django.db.backends.postgresql import base

from apps.audit.backends import FlushBeforeCommit


class DatabaseWrapper(FlushBeforeCommit, base.DatabaseWrapper):
    """The postgresql DatabaseWrapper with the audit trail's pre-commit write."""
