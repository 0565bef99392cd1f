"""Thin Celery tasks of privacy: the daily retention run."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from .retention import apply_retention


@shared_task(
    name="privacy.apply_retention",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
    ignore_result=True,
)
def retention_run() -> dict[str, int]:
    """Beat, daily: remove what the retention rules say is due today (held items stay); return counts per kind."""
    return apply_retention(timezone.localdate(), dry_run=False).counts
