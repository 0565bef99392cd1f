"""Stored dashboard figures: each report of one set of filters, computed once and read by the pages and the API for
a few minutes, so a leader opening the dashboard or a drill-down reads stored figures instead of aggregating every
case and evidence item of the company again.

- `StoredReports` is `Reports` whose every report (compliance, evidence mix, review health, boundary, blocking
  requirements, inventory, customer insights) is read from the cache (Redis in production) when it was computed
  less than `REPORTS_SNAPSHOT_SECONDS` ago for the same filters and day; otherwise it is computed in the request and
  stored for the next reader. A page computes only the reports it shows, and says how old they are.
- "Refresh now" (`refresh=True`) computes them again at once.
- Beat (`reports.refresh_snapshots`) recomputes every report of the whole company's filters and of those opened
  within the hour before they age out, so the pages people return to are computed when they arrive.
- Exports compute live: a file gets the figures of the moment.

`REPORTS_SNAPSHOT_SECONDS = 0` turns stored figures off (every read computes live; the test settings do this).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from .filters import ReportFilters
from .selectors import PARTS, Reports

logger = logging.getLogger(__name__)

KEY = "reports:stored:v1:{part}:{filters}:{day}"
RECENT_KEY = "reports:stored:recent"
# Filter sets beat keeps computed: the whole company's, plus this many opened most recently (within the hour).
RECENT_MAX = 20
RECENT_WINDOW = dt.timedelta(hours=1)


def stored_seconds() -> int:
    return max(0, int(settings.REPORTS_SNAPSHOT_SECONDS))


def _filters_key(filters: ReportFilters) -> str:
    data = filters.as_json()
    return ",".join(f"{name}={data[name]}" for name in sorted(data))


class StoredReports(Reports):
    """Reports read from the cache when computed recently for the same filters and day, else computed and stored.

    `computed_at` is the time of the oldest report read so far (the page shows it); `stored` says whether stored
    figures are on at all.
    """

    def __init__(
        self, *, filters: ReportFilters, today: dt.date, refresh: bool = False, now: dt.datetime | None = None
    ) -> None:
        super().__init__(filters=filters, today=today)
        self.refresh = refresh
        self.now = now or timezone.now()
        self.times: dict[str, dt.datetime] = {}

    @property
    def stored(self) -> bool:
        return stored_seconds() > 0

    @property
    def every_minutes(self) -> int:
        return max(1, round(stored_seconds() / 60))

    @property
    def computed_at(self) -> dt.datetime:
        return min(self.times.values(), default=self.now)

    def _key(self, part: str) -> str:
        return KEY.format(part=part, filters=_filters_key(self.filters), day=self.today.isoformat())

    def read(self, part: str) -> Any:
        seconds = stored_seconds()
        if seconds and not self.refresh:
            found = cache.get(self._key(part))
            if isinstance(found, tuple) and len(found) == 2 and self.now - found[0] <= dt.timedelta(seconds=seconds):
                self.times[part] = found[0]
                return found[1]
        value = super().read(part)
        computed_at = timezone.now()
        self.times[part] = computed_at
        if seconds:
            # Kept past its serving age so beat's refresh replaces it before a reader finds it missing.
            cache.set(self._key(part), (computed_at, value), timeout=seconds * 2)
        return value

    def read_all(self) -> StoredReports:
        for part in PARTS:
            getattr(self, part)
        return self


def _note_recent(filters: ReportFilters, now: dt.datetime) -> None:
    """Remember that someone opened these filters (beat keeps the most recent ones computed)."""
    recent: dict[ReportFilters, dt.datetime] = cache.get(RECENT_KEY) or {}
    recent[filters] = now
    newest = sorted(recent.items(), key=lambda item: item[1], reverse=True)[:RECENT_MAX]
    cache.set(RECENT_KEY, dict(newest), timeout=int(RECENT_WINDOW.total_seconds()))


def stored_reports(
    *, filters: ReportFilters, today: dt.date, refresh: bool = False, now: dt.datetime | None = None
) -> StoredReports:
    """The reports of the filters for a page or the API: stored ones when recent, others computed as they are read."""
    reports = StoredReports(filters=filters, today=today, refresh=refresh, now=now)
    if stored_seconds():
        _note_recent(filters, reports.now)
    return reports


def snapshots_refresh(*, now: dt.datetime | None = None, today: dt.date | None = None) -> list[StoredReports]:
    """Beat: recompute every report of the whole company's filters and of those opened within the hour."""
    if not stored_seconds():
        return []
    now = now or timezone.now()
    today = today or timezone.localdate()
    recent: dict[ReportFilters, dt.datetime] = cache.get(RECENT_KEY) or {}
    wanted = [ReportFilters()] + [
        filters for filters, seen in recent.items() if filters != ReportFilters() and now - seen <= RECENT_WINDOW
    ]
    computed = []
    for filters in wanted:
        try:
            computed.append(StoredReports(filters=filters, today=today, refresh=True, now=now).read_all())
        except Exception:  # one filter set failing (say, a unit deleted meanwhile) must not stop the others
            logger.exception("Could not refresh the stored report figures of %s", filters)
    return computed
