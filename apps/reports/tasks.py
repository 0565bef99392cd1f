"""Thin Celery tasks of the reports: run a queued export, remove old export files, keep dashboard figures stored."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .services import export_job_run, export_jobs_cleanup
from .snapshots import snapshots_refresh


@shared_task(
    name="reports.export_run",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
    ignore_result=True,
)
def export_run(job_id: int) -> None:
    """Write one queued export (a job that is gone or already finished is left alone)."""
    export_job_run(job_id=job_id)


@shared_task(name="reports.export_cleanup", ignore_result=True)
def export_cleanup() -> int:
    """Beat, hourly: remove export files past their retention."""
    return export_jobs_cleanup()


@shared_task(name="reports.refresh_snapshots", ignore_result=True, expires=120)
def refresh_snapshots() -> int:
    """Beat, every few minutes: recompute the stored dashboard figures people read (see snapshots.py)."""
    return len(snapshots_refresh())
