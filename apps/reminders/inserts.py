"""Insert planned reminders, letting the unique key decide which are new, and audit exactly those.

`INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id, key`: the database says which rows this call created, so
two planners at once never both think they wrote the same reminder. On PostgreSQL all rows go in one statement
(arrays unnested server-side), whatever their number; SQLite takes them in chunks. The audited queryset's
bulk_create refuses ignore_conflicts because it cannot tell which rows are new; here we can, so each new row gets
its create event in the same transaction, as for any audited insert.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from apps.audit.capture import created_changes, model_event
from apps.audit.chain import append_events
from apps.audit.constants import AuditAction
from apps.audit.registry import tracked_spec

from .constants import ReminderStatus
from .models import Reminder
from .planner import Planned

_SQLITE_CHUNK = 500


def _reminder(item: Planned, now: dt.datetime, enqueue: bool) -> Reminder:
    recipient = item.recipient
    return Reminder(
        key=item.key,
        kind=item.kind,
        occasion=item.occasion,
        status=ReminderStatus.CANCELLED if item.cancelled else ReminderStatus.PENDING,
        cycle_id=item.cycle_id,
        case_id=item.case_id,
        evidence_id=item.evidence_id,
        recipient_employee_id=recipient.employee_id,
        recipient_user_id=recipient.user_id,
        to_email=recipient.email,
        recipient_name=recipient.name[:200],
        recipient_timezone=recipient.timezone,
        reason=item.reason[:300],
        context=item.context,
        due_at=item.due_at,
        enqueued_at=now if enqueue and not item.cancelled else None,
        claimed_at=None,
        attempts=0,
        sent_at=None,
        last_error=item.cancelled,
        created_at=now,
        updated_at=now,
    )


def _columns() -> list:
    return [f for f in Reminder._meta.concrete_fields if not f.primary_key]


def _values(objs: Sequence[Reminder], fields: list) -> list[list]:
    rows = []
    for obj in objs:
        row = []
        for f in fields:
            value = getattr(obj, f.attname)
            if f.get_internal_type() == "JSONField":
                row.append(json.dumps(value, cls=DjangoJSONEncoder))
            else:
                row.append(f.get_db_prep_save(value, connection))
        rows.append(row)
    return rows


def _insert_postgresql(objs: Sequence[Reminder]) -> dict[str, int]:
    fields = _columns()
    table = connection.ops.quote_name(Reminder._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # JSON travels as text and is cast per row; every other column as an array of its own type.
    arrays = ", ".join(
        "%s::text[]" if f.get_internal_type() == "JSONField" else f"%s::{f.db_type(connection)}[]" for f in fields
    )
    selects = ", ".join(
        f"c{i}::jsonb" if f.get_internal_type() == "JSONField" else f"c{i}" for i, f in enumerate(fields)
    )
    aliases = ", ".join(f"c{i}" for i in range(len(fields)))
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {selects} FROM unnest({arrays}) AS t({aliases}) "  # noqa: S608
        f"ON CONFLICT ({connection.ops.quote_name('key')}) DO NOTHING RETURNING id, {connection.ops.quote_name('key')}"
    )
    rows = _values(objs, fields)
    columns = [list(column) for column in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)
        return {key: pk for pk, key in cursor.fetchall()}


def _insert_chunked(objs: Sequence[Reminder]) -> dict[str, int]:
    fields = _columns()
    table = connection.ops.quote_name(Reminder._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    created: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(objs), _SQLITE_CHUNK):
            chunk = objs[start : start + _SQLITE_CHUNK]
            sql = (
                f"INSERT INTO {table} ({names}) VALUES {', '.join([row_sql] * len(chunk))} "  # noqa: S608
                'ON CONFLICT ("key") DO NOTHING RETURNING id, "key"'
            )
            params = [value for row in _values(chunk, fields) for value in row]
            cursor.execute(sql, params)
            created.update({key: pk for pk, key in cursor.fetchall()})
    return created


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
    objs = [_reminder(item, now, key in enqueue_keys) for key, item in unique.items()]
    with transaction.atomic(savepoint=False):
        created = _insert_postgresql(objs) if connection.vendor == "postgresql" else _insert_chunked(objs)
        new = []
        for obj in objs:
            pk = created.get(obj.key)
            if pk is None:
                continue
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = connection.alias
            new.append(obj)
        spec = tracked_spec(Reminder)
        if spec is not None and new:
            events = [
                model_event(spec, obj, AuditAction.CREATE, created_changes(spec, obj), bulk="plan") for obj in new
            ]
            append_events(events, safe=True)
    return new
