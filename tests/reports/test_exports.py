"""Exports: the case detail row by row, formula injection, audit events, large exports as jobs, file cleanup."""

import csv
import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent
from apps.audit.personal import reveal
from apps.cases.models import PolicyException
from apps.org.selectors import org_tree_get
from apps.reports.constants import ExportStatus
from apps.reports.filters import ReportFilters
from apps.reports.models import ExportJob
from apps.reports.selectors import case_detail
from apps.reports.services import export_job_run, export_jobs_cleanup, export_progress
from tests.factories.reports import ExportJobFactory
from tests.reports.xlsx import read_xlsx

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://x","y")'


def detail_rows(company, **filters):
    detail = case_detail(filters=ReportFilters(**filters), tree=org_tree_get(), today=company.today)
    return detail.columns, [dict(zip(detail.columns, row, strict=True)) for row in detail.rows()]


def download_csv(client, kind="cases", **data):
    response = client.post(reverse("reports:export", args=[kind, "csv"]), data)
    assert response.status_code == 200, response.content[:500]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return response, list(csv.DictReader(io.StringIO(text)))


def test_case_detail_has_one_row_per_case_with_each_requirement(company):
    columns, rows = detail_rows(company)

    story, kpi = "One customer story (baseline)", "One operational KPI (Front desk)"
    assert columns[-4:] == [story, kpi, "exception", "exception justification"]
    by_subject = {(row["subject"], row["cycle"]): row for row in rows}
    assert len(rows) == 8  # withdrawn cases are listed too, with their status
    ann = by_subject[("Ann Archer", "Promotions H1")]
    assert (ann["status"], ann["compliant"], ann[story], ann[kpi]) == ("Approved", "yes", "met", "met")
    assert (ann["unit"], ann["customer layer"], ann["ritual"], ann["subject kind"]) == ("Front desk", 0, "Promotion",
                                                                                         "employee")  # fmt: skip
    bob = by_subject[("Bob Baker", "Promotions H1")]
    assert (bob["status"], bob[story], bob[kpi], bob["exception"]) == ("Approved with exception", "not met",
                                                                       "not met", "Granted")  # fmt: skip
    assert bob["exception justification"].startswith("Bob ran the front desk alone")
    cat = by_subject[("Cat Cooper", "Promotions H1")]
    assert (cat[story], cat[kpi]) == ("met", "")  # Payroll's policy has no KPI requirement
    assert by_subject[("Dan Dunn", "Promotions H1")]["status"] == "Rejected"
    fay = by_subject[("Fay Fisher", "Promotions H2")]
    assert (fay["status"], fay["compliant"], fay[story], fay[kpi]) == ("Open", "no", "met", "not met")
    assert fay["evaluated"] == f"as of {company.today.isoformat()}"  # its stored evaluation
    assert (fay["requirements met"], fay["requirements total"]) == (1, 2)
    gus = by_subject[("Gus Grant", "Promotions H2")]
    assert (gus["compliant"], gus[story]) == ("no", "not met")  # its stored results, though the summary was cleared


def test_case_detail_follows_the_filters(company):
    _, rows = detail_rows(company, cycle_id=company.h2.pk, unit_id=company.units["finance"].pk)

    assert [(row["subject"], row["unit"]) for row in rows] == [("Cat Cooper", "Payroll"), ("Gus Grant", "Finance")]


def test_csv_download_of_the_case_detail(company, client_for):
    response, rows = download_csv(client_for(company.users["leader"]), cycle=company.h1.pk)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="ritual-criteria-cases-promotions-h1-' in response["Content-Disposition"]
    assert [row["subject"] for row in rows] == ["Ann Archer", "Bob Baker", "Cat Cooper", "Dan Dunn", "Eve Evans"]


def test_a_subject_named_like_a_formula_is_neutralised_in_csv_and_xlsx(company, client_for):
    company.people["fay"].full_name = HYPERLINK
    company.people["fay"].save()
    PolicyException.objects.filter(case=company.cases["B"]).audited_update(justification="@SUM(A1) was the reason")
    client = client_for(company.users["hr-a"])

    _, rows = download_csv(client)
    assert "'" + HYPERLINK in [row["subject"] for row in rows]
    assert HYPERLINK not in [row["subject"] for row in rows]
    assert "'@SUM(A1) was the reason" in [row["exception justification"] for row in rows]

    response = client.post(reverse("reports:export", args=["cases", "xlsx"]))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = read_xlsx(b"".join(response.streaming_content))["Cases"]
    subjects = [row[1] for row in sheet.cells[1:]]
    hostile = next(cell for cell in subjects if cell.value == HYPERLINK)
    assert hostile.quote_prefix and not hostile.formula
    assert not any(cell.formula for row in sheet.cells for cell in row)
    assert sheet.frozen_rows == 1 and all(cell.bold for cell in sheet.cells[0])


def test_every_report_downloads_in_both_formats(company, client_for):
    client = client_for(company.users["leader"])
    for kind in ("compliance", "evidence_mix", "review_health", "boundary", "inventory", "unmet", "summary"):
        response, _ = download_csv(client, kind)
        response = client.post(reverse("reports:export", args=[kind, "xlsx"]))
        assert response.status_code == 200
        assert read_xlsx(b"".join(response.streaming_content))


def test_the_summary_workbook_has_a_sheet_per_section(company, client_for):
    response = client_for(company.users["leader"]).post(reverse("reports:export", args=["summary", "xlsx"]))

    sheets = read_xlsx(b"".join(response.streaming_content))
    assert list(sheets) == [
        "Compliance by cycle", "Compliance by unit", "Compliance by layer", "Compliance by cycle and unit",
        "Compliance by cycle and layer", "Evidence by category", "Evidence by metric", "Evidence by customer",
        "Gaming flags", "Review health", "Review queue by reviewer", "Turnaround by reviewer", "Boundary by layer",
        "Units without evidence", "Requirements inventory", "Unmet requirements", "Insights by unit",
        "Insights by layer",
    ]  # fmt: skip
    units = sheets["Compliance by unit"].values
    assert units[1][:4] == ["Acme", "0", "0", "7"]


def test_each_export_is_audited_with_who_what_filters_and_rows(company, client_for):
    client = client_for(company.users["leader"])
    before = AuditEvent.objects.filter(action=AuditAction.EXPORT_MADE).count()

    download_csv(client, cycle=company.h1.pk, unit="front-desk")

    event = AuditEvent.objects.filter(action=AuditAction.EXPORT_MADE).order_by("-id").first()
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT_MADE).count() == before + 1
    assert reveal(event.actor_name) == "leader" and event.actor_user_id == company.users["leader"].pk
    assert event.context["report"] == "cases" and event.context["format"] == "csv"
    assert event.context["rows"] == 2  # ann and bob
    assert event.context["filters"]["cycle"] == company.h1.pk
    assert event.context["filters"]["unit"] == company.units["front"].pk
    assert event.context["to"] == "download"


def test_invalid_filters_are_refused_without_an_export(company, client_for):
    client = client_for(company.users["leader"])
    response = client.post(reverse("reports:export", args=["cases", "csv"]), {"from": "2026-12-01", "to": "2026-01-01"})

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_MADE).exists()


@override_settings(REPORTS_ASYNC_EXPORT_ROWS=5)
def test_a_large_export_becomes_a_job_that_a_worker_writes(company, client_for, django_capture_on_commit_callbacks):
    client = client_for(company.users["leader"])
    small = client.post(reverse("reports:export", args=["cases", "csv"]), {"cycle": company.h1.pk})
    assert small.status_code == 200  # five CSV rows: at the limit, streamed at once
    assert not ExportJob.objects.exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("reports:export", args=["cases", "xlsx"]))
    job = ExportJob.objects.order_by("-pk").first()
    assert response.status_code == 302
    assert response["Location"].endswith(f"#job-{job.pk}")
    queued = [c for c in callbacks if "export_job_request" in getattr(c, "__qualname__", "")]
    assert len(queued) == 1  # the task is queued once the job row is committed
    assert (job.status, job.rows_expected, job.requested_by) == (ExportStatus.QUEUED, 8, company.users["leader"])
    exports = AuditEvent.objects.filter(action=AuditAction.EXPORT_MADE)
    assert exports.count() == 1  # the small one; the job has exported nothing yet

    export_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows_written) == (ExportStatus.DONE, 8)
    assert job.expires_at - job.finished_at == dt.timedelta(hours=24)
    event = exports.order_by("-id").first()
    assert (reveal(event.actor_name), event.context["rows"], event.context["job_id"]) == ("leader", 8, job.pk)

    download = client.get(reverse("reports:job-download", args=[job.pk]))
    assert download.status_code == 200
    assert len(read_xlsx(b"".join(download.streaming_content))["Cases"].cells) == 9
    status = client.get(reverse("reports:job-status", args=[job.pk])).json()
    assert status["status"] == "done" and status["percent"] == 100 and status["download_url"]


def test_only_the_person_who_asked_or_hr_sees_or_downloads_a_job(company, client_for):
    from apps.common.roles import Role
    from tests.factories.org import UserFactory

    job = ExportJobFactory(requested_by=company.users["leader"])
    export_job_run(job_id=job.pk)
    other_leader = UserFactory(username="other-leader")
    other_leader.groups.add(company.users["leader"].groups.get(name=Role.LEADERSHIP))

    client = client_for(other_leader)
    assert client.get(reverse("reports:job-status", args=[job.pk])).status_code == 404
    assert client.get(reverse("reports:job-download", args=[job.pk])).status_code == 404
    assert client_for(company.users["hr-a"]).get(reverse("reports:job-download", args=[job.pk])).status_code == 200


def test_a_finished_or_missing_job_is_left_alone():
    assert export_job_run(job_id=123456) is None


def test_a_failed_export_is_marked_failed_with_the_reason(company, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("apps.reports.services.export_prepare", broken)
    job = ExportJobFactory(requested_by=company.users["leader"])

    export_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == (ExportStatus.FAILED, "RuntimeError: disk full")
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_MADE).exists()


def test_progress_of_a_running_job_comes_from_the_cache():
    from django.core.cache import cache

    from apps.reports.constants import PROGRESS_CACHE_KEY

    job = ExportJobFactory(status=ExportStatus.RUNNING)
    cache.set(PROGRESS_CACHE_KEY.format(job_id=job.pk), 1234)

    assert export_progress(job) == 1234


def test_cleanup_removes_files_past_their_retention_and_fails_lost_jobs(company):
    done = ExportJobFactory(requested_by=company.users["leader"])
    export_job_run(job_id=done.pk)
    done.refresh_from_db()
    name = done.file.name
    assert default_storage.exists(name)
    lost = ExportJobFactory(status=ExportStatus.RUNNING)

    assert export_jobs_cleanup(now=timezone.now()) == 0  # nothing is old yet
    changed = export_jobs_cleanup(now=timezone.now() + dt.timedelta(hours=25))

    done.refresh_from_db()
    lost.refresh_from_db()
    assert changed == 2
    assert done.status == ExportStatus.EXPIRED and not done.file
    assert not default_storage.exists(name)
    assert lost.status == ExportStatus.FAILED and "Did not finish" in lost.error


def test_the_cleanup_task_is_on_the_beat_schedule():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["reports-export-cleanup"]
    assert entry["task"] == "reports.export_cleanup"


def test_the_case_detail_streams_in_a_fixed_number_of_queries(company, django_assert_num_queries):
    from tests.reports.conftest import grow

    counts = []
    for _ in range(2):
        with django_assert_num_queries(5) as captured:  # the org tree, columns 2, cases 1, stored results 1
            _, rows = detail_rows(company)
        counts.append((len(captured.captured_queries), len(rows)))
        grow(company, 30)
    assert counts == [(5, 8), (5, 38)]
