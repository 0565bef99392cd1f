"""A health check of a kept PostgreSQL connection that asks the server only when the socket says something happened.

With CONN_HEALTH_CHECKS Django checks a kept connection before each request's first query, with `SELECT 1`: one
round trip per request, about as much as the request's own cheapest query. A server that ends a connection
(restart, `pg_terminate_backend`, idle timeout, failover) sends an error and closes it, so the connection's socket
turns readable; while it has nothing to read and the connection is idle, the server has said nothing and the
connection is used as it is. When anything is waiting on the socket, or the connection is not plainly idle, the
check asks the server as Django does. A link cut without a word from the server (no FIN, no error) passes this
check, and Django's `SELECT 1` would hang on it alike; the request then fails as a clean 503
(apps.common.middleware.DatabaseUnavailableMiddleware) and Django closes the connection.

After a database error in a request Django still runs its own full check (`is_usable`), unchanged.
"""

from __future__ import annotations

import select

from psycopg import OperationalError
from psycopg.pq import ConnStatus, TransactionStatus


def socket_is_quiet(connection: object) -> bool:
    """True if a psycopg connection is open, idle and has nothing to read: the server has said nothing."""
    if connection is None or connection.closed:  # type: ignore[attr-defined]
        return False
    pgconn = connection.pgconn  # type: ignore[attr-defined]
    if pgconn.status != ConnStatus.OK or pgconn.transaction_status != TransactionStatus.IDLE:
        return False
    try:
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)  # POLLIN, POLLHUP or POLLERR: the server spoke, or the socket is closed
    except (OperationalError, OSError, ValueError):
        return False


class QuietSocketHealthCheck:
    """Mixin for the PostgreSQL DatabaseWrapper: the per-request health check without a round trip when it can."""

    def close_if_health_check_failed(self) -> None:
        if (
            getattr(self, "health_check_enabled", False)
            and not self.health_check_done  # type: ignore[attr-defined]
            and not getattr(self, "pool", None)  # a pool hands out checked connections (Django skips the check)
            and socket_is_quiet(self.connection)  # type: ignore[attr-defined]
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()  # type: ignore[misc]  # Django's: SELECT 1, close if it fails
