"""Thin Celery tasks of cases: the nightly sweep of stored evaluations, policy preview jobs."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .evaluations import evaluations_sweep


@shared_task(
    name="cases.sweep_evaluations",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
    ignore_result=True,
)
def sweep_evaluations() -> int:
    """Beat, nightly: re-evaluate every open case as of today (date windows); return how many changed compliance."""
    return evaluations_sweep().changed


@shared_task(
    name="cases.preview_run",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
    ignore_result=True,
)
def preview_run(job_id: int) -> None:
    """Run one queued policy preview (a job that is gone or already finished is left alone)."""
    from .preview import preview_job_run

    preview_job_run(job_id=job_id)
