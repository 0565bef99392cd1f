"""Thin Celery tasks for reminders: the beat-scheduled planner and sweeper, the drain of queued evidence events and
the sender of one reminder."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from .services import ReminderBusy, SendFailed, reminder_send, reminders_drain_events, reminders_plan, reminders_sweep

# A retry waits at most this long: always well under Redis's visibility timeout, so a retried task is never
# delivered twice because its message outlived the timeout while waiting.
RETRY_BACKOFF_MAX = min(
    600, int(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("visibility_timeout", 3600)) // 2
)


# Time limits of a send, inside the claim's lease (REMINDERS_SENDING_TIMEOUT, 60 s by default: 40 s and 50 s).
SEND_TIME_LIMIT = max(10, settings.REMINDERS_SENDING_TIMEOUT - 10)
SEND_SOFT_TIME_LIMIT = max(5, SEND_TIME_LIMIT - 10)


# The beat tasks and the drain are safe to run again (unique keys, skip-locked queue): a lost database connection or
# a deadlock is retried shortly, and beat runs them again anyway.
DATABASE_RETRIES: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 3,
}


@shared_task(name="reminders.plan", ignore_result=True, acks_late=True, reject_on_worker_lost=True, **DATABASE_RETRIES)
def plan() -> dict[str, int]:
    """Write the reminders that became due (beat, every REMINDERS_PLAN_EVERY seconds)."""
    return reminders_plan(keep_rows=False).counts


@shared_task(name="reminders.sweep", ignore_result=True, acks_late=True, reject_on_worker_lost=True, **DATABASE_RETRIES)
def sweep() -> dict[str, int]:
    """Take back rows whose worker died mid-send; hand the outbox's due rows to the broker (beat, every 30 s)."""
    return reminders_sweep().counts


@shared_task(
    name="reminders.drain_events", ignore_result=True, acks_late=True, reject_on_worker_lost=True, **DATABASE_RETRIES
)
def drain_events() -> int:
    """Write the notifications of the queued evidence events (published after each commit that queued one)."""
    return reminders_drain_events()


@shared_task(
    bind=True,
    name="reminders.send",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(SendFailed, ReminderBusy),
    retry_backoff=settings.REMINDERS_RETRY_BACKOFF,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=settings.REMINDERS_MAX_RETRIES,
    # A send that hangs (an SMTP server that never answers) is stopped before its claim expires: the soft limit
    # lets it record the attempt and retry; the hard limit kills the child, and the sweeper takes the row back.
    # So a live worker is never still sending when the sweeper hands the row to another (prefork pool).
    soft_time_limit=SEND_SOFT_TIME_LIMIT,
    time_limit=SEND_TIME_LIMIT,
)
def send_reminder(self, reminder_id: int) -> str:
    """Send one reminder at least once: claim its row, send, mark it sent; retried with backoff when the mail server
    gave no definite answer; a definite refusal is final."""
    return reminder_send(reminder_id=reminder_id, final_attempt=self.request.retries >= self.max_retries)
