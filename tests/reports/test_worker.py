"""A large export goes through the configured broker (Redis in CI) to a real worker, and its file downloads."""

import csv
import io
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent
from apps.audit.personal import reveal
from apps.reports.constants import ExportStatus
from apps.reports.models import ExportJob
from ritualcriteria.celery import app
from tests.reports.conftest import build_company


@pytest.fixture
def worker(transactional_db):
    """An in-process worker consuming from the real broker (no eager mode)."""
    assert app.conf.task_always_eager is False
    app.control.purge()  # tasks earlier tests published (audit seals, drains) must not run during this one
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING") as running:
        yield running


@pytest.mark.celery_worker
def test_a_large_export_runs_on_a_worker_with_progress_then_a_download(worker, client, settings):
    company = build_company()
    settings.REPORTS_ASYNC_EXPORT_ROWS = 3
    client.force_login(company.users["leader"])

    response = client.post(reverse("reports:export", args=["cases", "csv"]))

    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#job-{job.pk}")
    deadline = time.monotonic() + 60  # generous: CI machines and shared sandboxes can be slow
    seen = set()
    while time.monotonic() < deadline:
        state = client.get(reverse("reports:job-status", args=[job.pk])).json()
        seen.add(state["status"])
        if state["status"] in (ExportStatus.DONE, ExportStatus.FAILED):
            break
        time.sleep(0.1)
    assert state["status"] == ExportStatus.DONE, state
    assert state["percent"] == 100 and state["rows_written"] == 8

    download = client.get(state["download_url"])
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(text)))) == 8
    event = AuditEvent.objects.get(action=AuditAction.EXPORT_MADE)
    assert (reveal(event.actor_name), event.context["rows"], event.context["job_id"]) == ("leader", 8, job.pk)
