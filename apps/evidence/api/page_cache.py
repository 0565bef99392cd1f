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
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Subquery
from django.dispatch import receiver
from django.utils import timezone
from rest_framework.request import Request

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

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[0] > self.max_age:
                self._drop(key)
                return None
            self._pages.move_to_end(key)
        return json.loads(entry[1])

    def put(self, key: Hashable, data: Any) -> None:
        content = json.dumps(data, separators=(",", ":")).encode()
        if len(content) > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (time.monotonic(), content)
            self._size += len(content)
            while self._size > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._size = 0

    def _drop(self, key: Hashable) -> None:
        self._size -= len(self._pages.pop(key)[1])


pages = PageCache(MAX_BYTES, MAX_AGE_SECONDS)


def data_version() -> tuple[Any, ...] | None:
    """The audit chain's head (sequence and hash) and the last migration applied; None on an empty chain.

    Read through the audit trail's own queryset, so that events a transaction has queued are written first (a
    transaction sees its own changes' events).
    """
    last_migration = MigrationRecorder.Migration.objects.order_by("-id").values("id")[:1]
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash", Subquery(last_migration)).first()


def page_key(request: Request, version: tuple[Any, ...]) -> Hashable:
    """Who asks, for exactly what, under which data version."""
    return (request.user.pk, request.build_absolute_uri(), timezone.get_current_timezone_name(), *version)


@receiver(setting_changed)
def _forget_pages_when_settings_change(**kwargs: Any) -> None:
    # Tests override settings (time zone, hosts); a page built under other settings must not be served.
    pages.clear()
