"""The CSV renderer of audit events: one place for columns, streaming and cell safety."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.db.models import QuerySet

from apps.common.csv_safety import safe_row

from .constants import DEFAULT_BATCH_SIZE
from .models import AuditEvent

CONTENT_TYPE = "text/csv; charset=utf-8"
COLUMNS = (
    "id",
    "seal__sequence",
    "occurred_at",
    "actor_name",
    "actor_user_id",
    "actor_ip",
    "request_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "context",
    "seal__prev_hash",
    "seal__hash",
)
# The header names the chain columns without the join.
HEADER = tuple(name.removeprefix("seal__") for name in COLUMNS)


class _Echo:
    """A file-like object whose write() returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def _cells(row: dict) -> list[object]:
    values = dict(row)
    values["occurred_at"] = row["occurred_at"].isoformat()
    for name in ("changes", "context"):
        values[name] = json.dumps(row[name], sort_keys=True, ensure_ascii=False)
    return [values[name] for name in COLUMNS]


def iter_csv(events: QuerySet[AuditEvent], *, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[str]:
    """Yield the CSV lines (header first) of `events`, in the order they were written, in constant memory."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    rows = events.order_by("id").values(*COLUMNS)
    last = 0
    while True:
        batch = list(rows.filter(id__gt=last)[:batch_size])
        for row in batch:
            yield writer.writerow(safe_row(_cells(row)))
        if len(batch) < batch_size:
            return
        last = batch[-1]["id"]


def csv_filename(since: str | None, until: str | None) -> str:
    """Return the download name of an export."""
    return f"audit-{since or 'start'}-to-{until or 'now'}.csv"
