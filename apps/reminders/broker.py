"""kombu's Redis transport for the outbox's kept publishing connection (`apps.reminders.outbox`), with one Redis
client kept per channel.

kombu's Redis channel builds a new `redis.Redis` client for every message it publishes, and that constructor fills
a table of about 170 response callbacks: a third of a publish's CPU (0.15 of 0.45 ms), paid on every submission in
the reviewers' sending hours. The kept client uses the channel's own connection pool, as the new ones would; it is
built again if the channel replaces its pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis


class KeptClientChannel(kombu_redis.Channel):
    """A kombu Redis channel that reuses one client for its own commands (publishing, queue declarations)."""

    _kept_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        kept = self._kept_client
        if kept is None or kept.connection_pool is not self.pool:
            kept = self._kept_client = self._create_client()
        yield kept


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with `KeptClientChannel`."""

    Channel = KeptClientChannel


def transport_for(broker_url: str) -> type[Transport] | None:
    """The transport class to publish with for a broker URL: this one for Redis, kombu's choice (None) otherwise."""
    return Transport if broker_url.startswith(("redis://", "rediss://")) else None
