"""Hand tasks to the broker: after commit, with short timeouts, never blocking a request for long.

The reminder rows are the outbox: they commit with the change that caused them. Publishing is a best effort on
top (`transaction.on_commit`); when the broker does not answer within REMINDERS_PUBLISH_TIMEOUT seconds, the rows
keep no "handed over" stamp and this process stops trying from requests for REMINDERS_BROKER_RETRY_AFTER seconds.
The beat sweeper hands over whatever is still pending once the broker is back.

Evidence events reach the worker the same way, one step earlier: the change queues the event
(`PendingEvidenceEvent`) and, after commit, rings the doorbell (`ring`), which publishes one drain task for a
whole burst of events; the drain writes their reminders and publishes those.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from .broker import KeptClientChannel, transport_for
from .constants import ReminderStatus
from .models import Reminder

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_broker_down_until = 0.0


def broker_marked_down() -> bool:
    """True while this process recently failed to reach the broker."""
    return time.monotonic() < _broker_down_until


def _mark_broker(up: bool) -> None:
    global _broker_down_until
    with _lock:
        _broker_down_until = 0.0 if up else time.monotonic() + settings.REMINDERS_BROKER_RETRY_AFTER


def _connection_options() -> dict[str, object]:
    from ritualcriteria.celery import app

    timeout = settings.REMINDERS_PUBLISH_TIMEOUT
    options = dict(app.conf.broker_transport_options or {})
    broker_url = str(app.conf.broker_url or "")
    connection: dict[str, object] = {"connect_timeout": timeout, "transport_options": options}
    transport = transport_for(broker_url)
    if transport is not None:  # Redis
        options.update(socket_connect_timeout=timeout, socket_timeout=timeout, max_retries=0)
        connection["transport"] = transport
    return connection


# One broker connection per thread of each process, kept between publishes: opening one costs about 3 ms of CPU
# (connect, set up the transport), publishing on an open one about 0.6 ms, and every submission rings the doorbell.
# On Redis the connection's client is kept beside it (`_redis_client`).
_kept = threading.local()


def _discard_connection() -> None:
    kept = getattr(_kept, "connection", None)
    _kept.connection = _kept.client = None
    if kept is not None:
        try:
            kept[1].release()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail too; it is dropped either way
            logger.debug("reminders: closing a broken broker connection failed", exc_info=True)


def _connection() -> tuple[object, bool]:
    """This thread's open broker connection, and whether it was opened just now (not kept from before)."""
    from ritualcriteria.celery import app

    # Kept for this process (a forked child never uses its parent's socket) and this broker address.
    key = (os.getpid(), app.conf.broker_url)
    kept = getattr(_kept, "connection", None)
    if kept is not None and kept[0] == key:
        return kept[1], False
    _discard_connection()
    conn = app.connection_for_write(**_connection_options())
    try:
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=settings.REMINDERS_PUBLISH_TIMEOUT
        )
    except Exception:
        conn.release()
        raise
    _kept.connection = (key, conn)
    return conn, True


def send_task(producer: object, reminder_id: int, *, declare: bool) -> None:
    """Publish one reminder's send task, without retries: the message `send_reminder.apply_async` writes.

    Two of Celery's costliest steps are skipped (tests/reminders/test_outbox.py): the argument's text is given
    (what Celery writes with saferepr), and the queue is declared only when `declare` (a connection's first publish;
    kombu would otherwise bind a copy of the queue on every publish, only to find it in its cache of declared
    entities).
    """
    from .tasks import send_reminder

    _apply_async(send_reminder, (reminder_id,), producer, declare=declare)


def _apply_async(
    task: Any,
    args: tuple[Any, ...],
    producer: object,
    *,
    declare: bool,
    kwargs: dict[str, Any] | None = None,
    **options: Any,
) -> None:
    # The message `task.apply_async(args, kwargs, **options)` writes, without retries, with the arguments' text
    # given and the queue declared only when asked (see send_task).
    if kwargs:
        options["kwargs"] = kwargs
    task.apply_async(
        args,
        producer=producer,
        retry=False,
        argsrepr=repr(args),
        kwargsrepr=repr(kwargs or {}),
        declare=None if declare else [],
        **options,
    )


def _with_broker(work: Callable[[object, bool], None], left: Callable[[], str]) -> bool:
    """Run `work(connection, fresh)` on this thread's kept broker connection; True when it ran to the end.

    A kept connection that fails quickly (the broker closed it while idle) is replaced once; any other failure marks
    the broker down for REMINDERS_BROKER_RETRY_AFTER seconds and logs what `left()` says was left undone. `work`
    is called again after a replacement, so it must skip what it already did.
    """
    started = time.monotonic()
    while True:
        fresh = True
        try:
            conn, fresh = _connection()
            work(conn, fresh)
        except Exception as exc:  # noqa: BLE001 - any broker failure: what is left waits for the sweeper
            _discard_connection()
            if not fresh and time.monotonic() - started < settings.REMINDERS_PUBLISH_TIMEOUT / 2:
                continue
            _mark_broker(up=False)
            logger.warning("reminders: broker unavailable (%s: %s); %s", type(exc).__name__, exc, left())
            return False
        _mark_broker(up=True)
        return True


def publish(reminder_ids: Sequence[int], *, force: bool = False) -> list[int]:
    """Publish one send task per reminder; return the ids the broker accepted (a prefix of the given ones).

    Gives up at the first error. Without `force` (requests, planner), does nothing while the broker is marked
    down; the sweeper passes `force` since it is the way back once the broker answers.
    """
    from ritualcriteria.celery import app

    if not reminder_ids or (broker_marked_down() and not force):
        return []
    accepted: list[int] = []

    def work(conn: object, fresh: bool) -> None:
        producer = app.amqp.Producer(conn)
        declare = fresh
        for reminder_id in reminder_ids[len(accepted) :]:
            send_task(producer, reminder_id, declare=declare)
            declare = False
            accepted.append(reminder_id)

    _with_broker(
        work, lambda: f"{len(reminder_ids) - len(accepted)} of {len(reminder_ids)} send tasks left for the sweeper"
    )
    return accepted


# ------------------------------------------------------------------------------------------------ the doorbell

# Set (with a time to live) while a drain task is on its way; the drain clears it before it reads the queue.
DOORBELL_KEY = "ritualcriteria:reminders:doorbell"


def _redis_client(conn: object) -> Any | None:
    """The kept connection's Redis client (kept with it); None on another broker (the embedded default's files)."""
    kept = getattr(_kept, "client", None)
    if kept is not None and kept[0] is conn:
        return kept[1]
    client = None
    channel = conn.default_channel  # type: ignore[attr-defined]
    if isinstance(channel, KeptClientChannel):
        with channel.conn_or_acquire() as client:
            pass
    _kept.client = (conn, client)
    return client


# This process's monotonic time when it last found the doorbell set (or set it itself): see `ring`.
_doorbell_seen_at = float("-inf")


def ring() -> None:
    """After a commit that queued evidence events: make sure a drain task is on its way, one for a whole burst.

    On Redis, `SET NX` with a time to live decides: only the ring that sets the key publishes the drain task; while
    the key is set, a drain is queued and has not started, so it will find the new events. The drain deletes the
    key before it reads the queue (`answer`), so an event committed after that read rings again. A lost drain
    message holds the doorbell for REMINDERS_DOORBELL_TTL seconds at most, and every sweep drains the queue too. On
    another broker every ring publishes. While the broker is marked down, nothing is tried: the sweeper drains.

    Quiet rings: for REMINDERS_DOORBELL_QUIET seconds after this process last asked Redis and found the doorbell set
    (or set it), it does not ask again. The drain that clears that doorbell does so after the asking (the key was
    set then), and looks at the queue once more REMINDERS_DOORBELL_QUIET seconds after it cleared it
    (`tasks.drain_events`): by then every ring this process skipped has happened, after its event's commit. So a
    busy process asks Redis about once per quiet period instead of on every submission, and an event waits for the
    drain at most that long more.
    """
    global _doorbell_seen_at
    if broker_marked_down():
        return
    quiet = settings.REMINDERS_DOORBELL_QUIET
    asked_at = time.monotonic()
    if quiet > 0 and asked_at - _doorbell_seen_at < quiet:
        return
    rung = False
    seen = False

    def work(conn: object, fresh: bool) -> None:
        nonlocal rung, seen
        client = _redis_client(conn)
        if client is not None and not rung:
            seen = True  # set now by us, or set already: a drain clears it only after this moment
            if not client.set(DOORBELL_KEY, "1", nx=True, ex=settings.REMINDERS_DOORBELL_TTL):
                return  # rung already: the drain on its way takes these events too
            rung = True  # ours now: a retry on a new connection publishes without asking again
        _publish_drain(conn, declare=fresh)

    if _with_broker(work, lambda: "queued evidence events left for the sweeper") and seen:
        _doorbell_seen_at = asked_at


def answer() -> bool:
    """The drain task, before it reads the queue: clear the doorbell so that the next event rings again.

    True when there is a doorbell (Redis) and it was cleared: then rings may have been quiet (see `ring`)."""
    cleared = False

    def work(conn: object, fresh: bool) -> None:
        nonlocal cleared
        client = _redis_client(conn)
        if client is not None:
            client.delete(DOORBELL_KEY)
            cleared = True

    _with_broker(work, lambda: "the doorbell stays set until its time to live ends")
    return cleared


def publish_drain_again(*, countdown: float) -> None:
    """The drain task's follow-up: one more drain `countdown` seconds from now, which leaves the doorbell alone
    (see `ring`). If the broker does not take it, the sweeper's next run drains the queue instead."""

    def work(conn: object, fresh: bool) -> None:
        _publish_drain(conn, declare=fresh, kwargs={"again": True}, countdown=countdown)

    _with_broker(work, lambda: "the follow-up drain is left to the sweeper")


def _publish_drain(conn: object, *, declare: bool, **options: Any) -> None:
    # A drain task's message on the kept connection (the doorbell's, or its follow-up with `options`).
    from ritualcriteria.celery import app

    from .tasks import drain_events

    _apply_async(drain_events, (), app.amqp.Producer(conn), declare=declare, **options)


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
