"""Whether an export runs in the request or as a job follows the work behind it, not only the rows it writes."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from apps.reports.constants import ExportStatus
from apps.reports.filters import ReportFilters
from apps.reports.models import ExportJob
from apps.reports.services import export_prepare
from tests.reports.conftest import grow

pytestmark = pytest.mark.django_db


def prepared(kind, export_format, **filters):
    return export_prepare(
        kind=kind, export_format=export_format, filters=ReportFilters(**filters), today=timezone.localdate()
    )


def test_a_case_detail_csv_costs_one_unit_per_row_so_the_row_setting_keeps_its_meaning(company):
    export = prepared("cases", "csv")

    assert (export.rows, export.estimate.work) == (8, 8)


def test_xlsx_costs_more_than_csv_and_the_summary_more_than_its_rows(company):
    grow(company, 30)
    summary_csv, summary_xlsx = prepared("summary", "csv"), prepared("summary", "xlsx")
    cases_csv = prepared("cases", "csv")

    assert summary_xlsx.estimate.work > 3 * summary_csv.estimate.rows
    assert summary_xlsx.estimate.work > summary_csv.estimate.work > summary_csv.estimate.rows
    assert cases_csv.estimate.work == cases_csv.rows == 38


def test_deciding_costs_a_few_counts_and_never_runs_the_report(company, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # the org tree, the cases' count, the evidence's count, the cycle name
        export = prepared("summary", "xlsx", cycle_id=company.h2.pk)
    assert export.built is None

    with django_assert_max_num_queries(3):
        prepared("evidence_mix", "csv")


@override_settings(REPORTS_ASYNC_EXPORT_ROWS=100)
def test_a_whole_company_summary_xlsx_goes_to_a_job_while_a_small_csv_stays_inline(company, client_for):
    grow(company, 30)
    client = client_for(company.users["leader"])

    summary = client.post(reverse("reports:export", args=["summary", "xlsx"]))
    job = ExportJob.objects.get()
    assert summary.status_code == 302 and summary["Location"].endswith(f"#job-{job.pk}")
    assert job.status == ExportStatus.QUEUED and job.report == "summary"
    assert (
        job.rows_expected is not None and job.rows_expected < 100
    )  # fewer rows than the setting: the old rule would have run it in the request

    cases = client.post(reverse("reports:export", args=["cases", "csv"]))
    small_summary = client.post(reverse("reports:export", args=["summary", "csv"]), {"unit": "legal"})
    assert cases.status_code == 200 and small_summary.status_code == 200
    assert ExportJob.objects.count() == 1


def test_the_summary_workbook_draws_compliance_by_cycle_and_by_layer_from_its_own_cells(company, client_for):
    response = client_for(company.users["leader"]).post(reverse("reports:export", args=["summary", "xlsx"]))

    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as book:
        charts = sorted(name for name in book.namelist() if name.startswith("xl/charts/chart"))
        xml = {name: book.read(name).decode() for name in charts}
    assert charts == ["xl/charts/chart1.xml", "xl/charts/chart2.xml"]
    by_cycle, by_layer = xml["xl/charts/chart1.xml"], xml["xl/charts/chart2.xml"]
    assert "<c:barChart>" in by_cycle and "Compliance by cycle" in by_cycle
    # two cycles (H1, H2): names in column A, compliance at decision (%) in G, exception rate (%) in J
    assert "'Compliance by cycle'!$A$2:$A$3" in by_cycle
    assert "'Compliance by cycle'!$G$2:$G$3" in by_cycle and "'Compliance by cycle'!$J$2:$J$3" in by_cycle
    # three customer layers (0, 2, 3): compliance at decision (%) in F
    assert "'Compliance by layer'!$F$2:$F$4" in by_layer


def test_csv_exports_carry_no_chart_and_an_empty_section_gets_none(company):
    from apps.reports.renderers import Chart, Section, renderer_for
    from apps.reports.renderers.csv import CsvRenderer

    chart = Chart("Nothing", category="a", values=["b"])
    target = io.BytesIO()
    renderer_for("xlsx").write([Section("Empty", ["a", "b"], [], chart=chart)], target)
    with zipfile.ZipFile(io.BytesIO(target.getvalue())) as book:
        assert not [name for name in book.namelist() if name.startswith("xl/charts/")]
    csv_text = b"".join(CsvRenderer().stream([Section("One", ["a", "b"], [["x", 1]], chart=chart)]))
    assert csv_text.decode("utf-8-sig") == "a,b\r\nx,1\r\n"
