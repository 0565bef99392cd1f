"""Evidence list pages kept in memory, each valid only while nothing it could show has changed anywhere.

Why a kept page is never stale:
- Everything a page shows comes from audited tables: evidence and its files, employees (names, managers, logins),
  units, touchpoints, categories, users and their groups (who sees what, who may review).
- Every change to them appends events to the audit chain in the change's own transaction, bulk writes included
  (`AuditedQuerySet` audits or refuses them), whoever makes it: API, portal, admin, tasks, commands. The chain's
  sequence numbers follow commit order (apps/audit: appenders hold the chain lock to COMMIT).
- A request reads the chain's head *before* reading the page, so the page reflects at least every change up to
  that head; it is kept under the head's sequence and hash (and the last migration applied, for data
  migrations). The next audited commit anywhere moves the head, and no request asks for the old key again.
The key also holds who asks, the full URL (page, filters, host: the links are absolute) and the time zone. Errors
are never kept. Changes made behind the application's back (SQL typed into psql) are not audited either; kept
pages still expire after MAX_AGE_SECONDS, and restarting the web processes empties them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from django.core.signals import setting_changed
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Subquery
from django.dispatch import receiver
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.audit.models import AuditEvent

# Memory for kept pages, per web process (a page of 50 items is about 60 KB of JSON).
MAX_BYTES = 16 * 1024 * 1024
MAX_AGE_SECONDS = 300.0


class PageCache:
    """A size-bounded, thread-safe LRU of JSON-encoded pages."""

    def __init__(self, max_bytes: int, max_age: float) -> None:
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._pages: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        """The page's JSON as JSONRenderer wrote it, if kept and not too old."""
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[0] > self.max_age:
                self._drop(key)
                return None
            self._pages.move_to_end(key)
        return entry[1]

    def put(self, key: Hashable, data: Any) -> bytes:
        """Keep the page as JSONRenderer writes it; return those bytes."""
        content = JSONRenderer().render(data)
        if len(content) > self.max_bytes // 4:
            return content
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (time.monotonic(), content)
            self._size += len(content)
            while self._size > self.max_bytes:
                self._drop(next(iter(self._pages)))
        return content

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._size = 0

    def _drop(self, key: Hashable) -> None:
        self._size -= len(self._pages.pop(key)[1])


pages = PageCache(MAX_BYTES, MAX_AGE_SECONDS)


def data_version() -> tuple[Any, ...] | None:
    """The audit chain's head (sequence and hash) and the last migration applied; None on an empty chain."""
    connection = connections[AuditEvent.objects.db]
    if connection.in_atomic_block:
        # Inside a transaction, through the trail's own queryset: it first writes the events the transaction may
        # hold back until COMMIT, so the transaction's own changes count.
        last_migration = MigrationRecorder.Migration.objects.order_by("-id").values("id")[:1]
        events = AuditEvent.objects.order_by("-sequence")
        return events.values_list("sequence", "hash", Subquery(last_migration)).first()
    with connection.cursor() as cursor:  # the usual case, a GET outside any transaction: a quarter of the cost
        cursor.execute(_version_sql(connection))
        return cursor.fetchone()


_version_sql_by_vendor: dict[str, str] = {}


def _version_sql(connection: Any) -> str:
    sql = _version_sql_by_vendor.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name
        event, migration = AuditEvent._meta, MigrationRecorder.Migration._meta
        sequence, hash_ = (quote(event.get_field(name).column) for name in ("sequence", "hash"))
        sql = _version_sql_by_vendor[connection.vendor] = (
            f"SELECT {sequence}, {hash_}, (SELECT MAX({quote(migration.pk.column)}) FROM {quote(migration.db_table)}) "  # noqa: S608
            f"FROM {quote(event.db_table)} ORDER BY {sequence} DESC LIMIT 1"
        )
    return sql


class RenderedJSONResponse(Response):
    """A kept page answered with the bytes JSONRenderer wrote for it: nothing to parse or render again."""

    def __init__(self, content: bytes) -> None:
        super().__init__(data=None)
        self.kept_content = content

    @property
    def rendered_content(self) -> bytes:
        self["Content-Type"] = self.accepted_renderer.media_type
        return self.kept_content


def kept_response(request: Request, content: bytes) -> Response:
    """Answer with a kept page: its bytes for plain JSON, its data for any other renderer or an indented JSON."""
    renderer = request.accepted_renderer
    if type(renderer) is JSONRenderer and renderer.get_indent(request.accepted_media_type, {}) is None:
        return RenderedJSONResponse(content)
    return Response(json.loads(content))


def page_key(request: Request, version: tuple[Any, ...]) -> Hashable:
    """Who asks, for exactly what, under which data version."""
    return (request.user.pk, request.build_absolute_uri(), timezone.get_current_timezone_name(), *version)


@receiver(setting_changed)
def _forget_pages_when_settings_change(**kwargs: Any) -> None:
    # Tests override settings (time zone, hosts); a page built under other settings must not be served.
    pages.clear()
