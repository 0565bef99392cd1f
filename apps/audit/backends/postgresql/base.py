"""Django's postgresql backend, writing the transaction's queued audit events before COMMIT, with a health check
that asks the server only when the connection's socket says something happened (apps.common.connection_check)."""

from django.db.backends.postgresql import base

from apps.audit.backends import FlushBeforeCommit
from apps.common.connection_check import QuietSocketHealthCheck


class DatabaseWrapper(FlushBeforeCommit, QuietSocketHealthCheck, base.DatabaseWrapper):
    """The postgresql DatabaseWrapper with the audit trail's pre-commit write and the quiet-socket health check."""
