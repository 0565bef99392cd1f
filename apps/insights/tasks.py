"""Thin Celery tasks of the customer-insight stream: the beat-scheduled planner of the weekly unit digests."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError

from .digest import insights_digest_plan

# Safe to run again (unique reminder keys): a lost connection or a deadlock is retried shortly, and beat runs it again.
DATABASE_RETRIES: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 3,
}


@shared_task(
    name="insights.plan_digests", ignore_result=True, acks_late=True, reject_on_worker_lost=True, **DATABASE_RETRIES
)
def plan_digests() -> int:
    """Write this week's unit digests not written yet (beat, hourly); return how many were new."""
    return insights_digest_plan()
