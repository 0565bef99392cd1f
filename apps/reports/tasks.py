"""Thin Celery tasks of the reports: run a queued export, remove old export files."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .services import export_job_run, export_jobs_cleanup


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
