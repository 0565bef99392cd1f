"""Hand tasks to the broker after commit, through Celery's own pooled connections, never holding up a request long.

The reminder rows are the outbox: they commit with the change that caused them. Publishing their send tasks after
commit is a best effort on top: one immediate reconnect (for a pooled connection the broker closed while idle) and
no other retry, with the connect timeouts of the Celery configuration (REMINDERS_PUBLISH_TIMEOUT). A row the broker
did not take loses its hand-over stamp and the beat sweeper hands it over at its next run. After a failure this
process stops publishing from requests for REMINDERS_BROKER_RETRY_AFTER seconds, so an outage costs one request a
bounded wait, not every request; the sweeper always tries.

Evidence events reach the worker the same way, one step earlier: the change queues the event
(`PendingEvidenceEvent`) and, after commit, a drain task is published to run REMINDERS_DRAIN_DELAY seconds later, so
that a busy web process publishes one drain per delay rather than one per submission; the drain writes the
reminders and publishes their send tasks. A drain lost with the broker costs only time: every sweep drains the
queue too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from celery import current_app
from django.conf import settings
from django.db import transaction

from .constants import ReminderStatus
from .models import Reminder

logger = logging.getLogger(__name__)

# Celery's documented publish retry policy: reconnect once, at once, then give up (the sweeper is the retry).
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}

# This process's monotonic time until which requests do not publish (the broker failed lately).
_down_until = 0.0


def broker_marked_down() -> bool:
    """True while this process recently failed to reach the broker."""
    return time.monotonic() < _down_until


def _mark_broker(*, up: bool) -> None:
    global _down_until
    _down_until = 0.0 if up else time.monotonic() + settings.REMINDERS_BROKER_RETRY_AFTER


def publish(reminder_ids: Sequence[int], *, force: bool = False) -> list[int]:
    """Publish one send task per reminder; return the ids the broker accepted (a prefix of the given ones).

    Gives up at the first error. Without `force` (requests, planner), does nothing while the broker is marked
    down; the sweeper passes `force` since it is the way back once the broker answers.
    """
    from .tasks import send_reminder

    if not reminder_ids or (broker_marked_down() and not force):
        return []
    accepted: list[int] = []
    try:
        with current_app.producer_or_acquire() as producer:  # one pooled connection for the batch
            for reminder_id in reminder_ids:
                send_reminder.apply_async(
                    (reminder_id,), producer=producer, retry=True, retry_policy=PUBLISH_RETRY_POLICY
                )
                accepted.append(reminder_id)
    except Exception as exc:  # noqa: BLE001 - any broker failure: what is left waits for the sweeper
        _mark_broker(up=False)
        logger.warning(
            "reminders: broker unavailable (%s: %s); %d of %d send tasks left for the sweeper",
            type(exc).__name__,
            exc,
            len(reminder_ids) - len(accepted),
            len(reminder_ids),
        )
        return accepted
    _mark_broker(up=True)
    return accepted


# This process's monotonic time until which a drain it published has yet to run: events committed before then are
# drained by it (it runs REMINDERS_DRAIN_DELAY seconds after it was published).
_drain_pending_until = 0.0


def publish_drain() -> None:
    """After a commit that queued evidence events: publish a drain task that runs REMINDERS_DRAIN_DELAY seconds later,
    unless this process published one that has yet to run (it takes this event too). A lost one waits for the
    sweeper."""
    global _drain_pending_until
    from .tasks import drain_events

    now = time.monotonic()
    if broker_marked_down() or now < _drain_pending_until:
        return
    delay = settings.REMINDERS_DRAIN_DELAY
    _drain_pending_until = now + delay
    try:
        drain_events.apply_async(countdown=delay, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception as exc:  # noqa: BLE001 - the queued events wait for the sweeper's drain
        _mark_broker(up=False)
        logger.warning(
            "reminders: broker unavailable (%s: %s); queued evidence events left for the sweeper",
            type(exc).__name__,
            exc,
        )
        return
    _mark_broker(up=True)


def publish_after_commit(reminder_ids: Sequence[int]) -> None:
    """Once the surrounding transaction commits, publish the rows' send tasks; clear the stamp of any not taken."""
    ids = list(reminder_ids)
    if not ids:
        return

    def hand_over() -> None:
        accepted = set(publish(ids))
        unstamp([pk for pk in ids if pk not in accepted])

    transaction.on_commit(hand_over)


def unstamp(reminder_ids: Sequence[int]) -> None:
    """Clear the hand-over stamp of rows the broker did not take: the sweeper takes them at its next run."""
    if not reminder_ids:
        return
    try:
        Reminder.objects.filter(pk__in=list(reminder_ids), status=ReminderStatus.PENDING).audited_update(
            enqueued_at=None
        )
    except Exception:  # a database hiccup here only delays the mail until the stamp is old enough
        logger.exception("reminders: could not clear the hand-over stamp of %d rows", len(reminder_ids))
