"""Insert planned reminders, letting the unique key decide which are new, and audit exactly those.

The keys already in the log are read, the rest inserted with the audited `bulk_create` (one create event per row,
in the same transaction). Two planners at once may both find a key new: the unique index lets only one insert it.
The other's insert fails in its savepoint (on PostgreSQL it waits for the first to commit); it reads the keys again
and inserts what is still new, so exactly one of them creates, and publishes, each reminder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import IntegrityError, transaction

from . import outbox
from .constants import ReminderStatus
from .models import Reminder
from .planner import Planned

# Keys per `key IN (...)` read and rows per INSERT: well under SQLite's bound-parameter limit.
_CHUNK = 500
# Rounds of "read the keys, insert the new ones" before a conflict is left to the caller (another planner pass).
_ATTEMPTS = 5


def _reminder(item: Planned, now: dt.datetime, enqueue: bool) -> Reminder:
    """The new row of a planned reminder."""
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
        last_error=item.cancelled,
        created_at=now,
    )


def _existing(keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        found.update(Reminder.objects.filter(key__in=keys[start : start + _CHUNK]).values_list("key", flat=True))
    return found


def insert_new(planned: Sequence[Planned], *, now: dt.datetime, enqueue_keys: set[str]) -> list[Reminder]:
    """Insert the planned reminders whose key is new; return exactly the rows this call created (audited).

    Rows whose key is in `enqueue_keys` are stamped as handed to the broker now (the caller publishes them after
    commit and clears the stamp if the broker does not answer).
    """
    unique: dict[str, Planned] = {}
    for item in planned:
        unique.setdefault(item.key, item)
    # In key order: two transactions inserting overlapping keys take the index's locks in the same order.
    keys = sorted(unique)
    for _ in range(_ATTEMPTS):
        existing = _existing(keys)
        new = [_reminder(unique[key], now, key in enqueue_keys) for key in keys if key not in existing]
        if not new:
            return []
        try:
            with transaction.atomic():
                return Reminder.objects.bulk_create(new, batch_size=_CHUNK)
        except IntegrityError:  # another pass inserted some of these keys since the read: read them again
            continue
    raise IntegrityError(f"reminders: planned keys still conflicting after {_ATTEMPTS} attempts")


def write_planned(planned: Sequence[Planned], *, now: dt.datetime, publish_limit: int) -> list[Reminder]:
    """Insert the new ones in the caller's transaction; stamp and publish (after commit) up to `publish_limit` of
    those due now (the sweeper hands over the rest)."""
    due_keys = [p.key for p in planned if p.due_at <= now and not p.cancelled]
    enqueue = set(due_keys[: max(0, publish_limit)])
    created = insert_new(planned, now=now, enqueue_keys=enqueue)
    outbox.publish_after_commit([r.pk for r in created if r.enqueued_at is not None])
    return created
