"""Insert planned reminders, letting the unique key decide which are new, and audit exactly those.

`INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id, key`: the database says which rows this call created, so
two planners at once never both think they wrote the same reminder. On PostgreSQL all rows go in one statement
(one array per column, unnested server-side), whatever their number; SQLite takes them in chunks. The audited
queryset's bulk_create refuses ignore_conflicts because it cannot tell which rows are new; here we can, so each
new row gets its create event, in the same transaction, exactly as an audited bulk_create would write it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from functools import cache
from types import SimpleNamespace
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models.base import ModelState

from apps.audit.capture import created_changes, draft_event
from apps.audit.constants import AuditAction
from apps.audit.queue import queue_events
from apps.audit.registry import tracked_spec
from apps.common.prepared import fetch_all

from .constants import ReminderKind, ReminderStatus
from .models import Reminder
from .planner import Planned

_SQLITE_CHUNK = 500
_KIND_LABELS = dict(ReminderKind.choices)


def _row(item: Planned, now: dt.datetime, enqueue: bool) -> dict[str, Any]:
    """The column values of a new reminder, by attname."""
    recipient = item.recipient
    return {
        "key": item.key,
        "kind": str(item.kind),
        "occasion": item.occasion,
        "status": str(ReminderStatus.CANCELLED if item.cancelled else ReminderStatus.PENDING),
        "cycle_id": item.cycle_id,
        "case_id": item.case_id,
        "evidence_id": item.evidence_id,
        "recipient_employee_id": recipient.employee_id,
        "recipient_user_id": recipient.user_id,
        "to_email": recipient.email,
        "recipient_name": recipient.name[:200],
        "recipient_timezone": recipient.timezone,
        "reason": item.reason[:300],
        "context": item.context,
        "due_at": item.due_at,
        "enqueued_at": now if enqueue and not item.cancelled else None,
        "claimed_at": None,
        "attempts": 0,
        "sent_at": None,
        "last_error": item.cancelled,
        "created_at": now,
        "updated_at": now,
    }


@cache
def _fields() -> list:
    return [f for f in Reminder._meta.concrete_fields if not f.primary_key]


def _is_json(field: Any) -> bool:
    return field.get_internal_type() == "JSONField"


@cache
def _postgresql_sql(one_row: bool) -> str:
    fields = _fields()
    quote = connection.ops.quote_name
    if one_row:  # a submission's or review's notice: plain values, far cheaper to send than a set of arrays
        source = "VALUES (" + ", ".join("%s::jsonb" if _is_json(f) else "%s" for f in fields) + ")"
    else:
        # JSON travels as text and is cast per row; every other column as an array of its own type.
        arrays = ", ".join("%s::text[]" if _is_json(f) else f"%s::{f.db_type(connection)}[]" for f in fields)
        selects = ", ".join(f"c{i}::jsonb" if _is_json(f) else f"c{i}" for i, f in enumerate(fields))
        aliases = ", ".join(f"c{i}" for i in range(len(fields)))
        source = f"SELECT {selects} FROM unnest({arrays}) AS t({aliases})"  # noqa: S608 - our own column names
    return (
        f"INSERT INTO {quote(Reminder._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) {source} "  # noqa: S608
        f"ON CONFLICT ({quote('key')}) DO NOTHING RETURNING id, {quote('key')}"
    )


def _insert_postgresql(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    encode = DjangoJSONEncoder().encode
    fields = _fields()
    if len(rows) == 1:
        params = [encode(rows[0][f.attname]) if _is_json(f) else rows[0][f.attname] for f in fields]
    else:
        params = [
            [encode(row[f.attname]) for row in rows] if _is_json(f) else [row[f.attname] for row in rows]
            for f in fields
        ]
    # Prepared on the server once per connection: every submission and review writes one (apps.common.prepared).
    return {key: pk for pk, key in fetch_all(connection, _postgresql_sql(len(rows) == 1), params)}


def _insert_chunked(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    fields = _fields()
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    created: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _SQLITE_CHUNK):
            chunk = rows[start : start + _SQLITE_CHUNK]
            sql = (
                f"INSERT INTO {quote(Reminder._meta.db_table)} ({names}) "  # noqa: S608
                f"VALUES {', '.join([row_sql] * len(chunk))} "
                f"ON CONFLICT ({quote('key')}) DO NOTHING RETURNING id, {quote('key')}"
            )
            params = [
                json.dumps(row[f.attname], cls=DjangoJSONEncoder)
                if _is_json(f)
                else f.get_db_prep_save(row[f.attname], connection)
                for row in chunk
                for f in fields
            ]
            cursor.execute(sql, params)
            created.update({key: pk for pk, key in cursor.fetchall()})
    return created


def _audit_created(rows: Sequence[dict[str, Any]]) -> None:
    """One create event per new row, as the audited bulk_create writes them (built without model instances)."""
    spec = tracked_spec(Reminder)
    if spec is None or not rows:
        return
    events = [
        draft_event(
            action=AuditAction.CREATE,
            object_type=spec.label,
            object_id=row["id"],
            object_repr=f"{_KIND_LABELS.get(row['kind'], row['kind'])} to {row['to_email']} ({row['occasion']})",
            changes=created_changes(spec, SimpleNamespace(**row)),  # type: ignore[arg-type]
            context={"bulk": "plan"},
            changes_are_safe=True,
        )
        for row in rows
    ]
    queue_events(events)  # written with the transaction's other events, before COMMIT


def insert_new(planned: Sequence[Planned], *, now: dt.datetime, enqueue_keys: set[str]) -> list[Reminder]:
    """Insert the planned reminders whose key is new; return exactly the rows this call created (audited).

    Rows whose key is in `enqueue_keys` are stamped as handed to the broker now (the caller publishes them after
    commit and clears the stamp if the broker does not answer).
    """
    unique: dict[str, Planned] = {}
    for item in planned:
        unique.setdefault(item.key, item)
    if not unique:
        return []
    rows = [_row(item, now, key in enqueue_keys) for key, item in unique.items()]
    with transaction.atomic(savepoint=False):
        created = _insert_postgresql(rows) if connection.vendor == "postgresql" else _insert_chunked(rows)
        new_rows = []
        for row in rows:
            pk = created.get(row["key"])
            if pk is not None:
                row["id"] = pk
                new_rows.append(row)
        _audit_created(new_rows)
    return [_as_reminder(row) for row in new_rows]


def _as_reminder(row: dict[str, Any]) -> Reminder:
    """A Reminder instance of a row just inserted, as if loaded from the database (no query, no signal)."""
    reminder = Reminder.__new__(Reminder)
    reminder.__dict__.update(row)
    reminder._state = ModelState()
    reminder._state.adding = False
    reminder._state.db = connection.alias
    return reminder
