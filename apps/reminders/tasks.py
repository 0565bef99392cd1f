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
    return reminders_plan().counts


@shared_task(name="reminders.sweep", ignore_result=True, acks_late=True, reject_on_worker_lost=True, **DATABASE_RETRIES)
def sweep() -> dict[str, int]:
    """Hand the outbox's due rows to the broker again; fail rows stuck mid-send (beat, every minute)."""
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
    # A send that hangs (an SMTP server that never answers) is stopped; the row is then failed by the sweeper.
    soft_time_limit=120,
    time_limit=150,
)
def send_reminder(self, reminder_id: int) -> str:
    """Send one reminder at most once: claim its row, send, mark it sent; retried with backoff on failure."""
    return reminder_send(reminder_id=reminder_id, final_attempt=self.request.retries >= self.max_retries)
