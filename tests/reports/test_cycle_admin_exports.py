"""HR downloads the case detail of cycles from the cycle admin: CSV or XLSX, audited, large ones as jobs."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent
from apps.audit.personal import reveal
from apps.common.roles import Role, grant_hr_permissions
from apps.reports.constants import ExportStatus
from apps.reports.models import ExportJob
from apps.reports.services import export_job_run
from tests.factories.org import UserFactory
from tests.reports.conftest import grow
from tests.reports.xlsx import read_xlsx

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:cases_cycle_changelist"


@pytest.fixture
def hr(company, client):
    """HR in the admin: staff, in the HR group with its admin permissions."""
    grant_hr_permissions()
    user = company.users["hr-a"]
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    return client


def run_action(client, action, *cycles):
    return client.post(reverse(CHANGELIST), {"action": action, "_selected_action": [cycle.pk for cycle in cycles]})


def csv_rows(response):
    assert response.status_code == 200, response.content[:500]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def exports():
    return AuditEvent.objects.filter(action=AuditAction.EXPORT_MADE)


def test_hr_downloads_the_selected_cycles_case_detail_as_csv(company, hr):
    response = run_action(hr, "export_cases_csv", company.h1)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="ritual-criteria-cases-promotions-h1-' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [(row["subject"], row["cycle"]) for row in rows] == [
        (name, "Promotions H1") for name in ("Ann Archer", "Bob Baker", "Cat Cooper", "Dan Dunn", "Eve Evans")
    ]
    event = exports().get()
    assert (reveal(event.actor_name), event.context["report"], event.context["format"]) == ("hr-a", "cases", "csv")
    assert (event.context["rows"], event.context["to"]) == (5, "download")
    assert event.context["filters"]["cycle"] == company.h1.pk


def test_several_cycles_make_one_file_of_their_cases(company, hr):
    rows = csv_rows(run_action(hr, "export_cases_csv", company.h1, company.h2))

    assert sorted({row["cycle"] for row in rows}) == ["Promotions H1", "Promotions H2"]
    assert len(rows) == 8
    fay = next(row for row in rows if row["subject"] == "Fay Fisher")
    assert fay["evaluated"] == f"as of {company.today.isoformat()}"
    assert exports().get().context["filters"]["cycles"] == sorted([company.h1.pk, company.h2.pk])


def test_hr_downloads_the_case_detail_as_xlsx(company, hr):
    response = run_action(hr, "export_cases_xlsx", company.h2)

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    cells = read_xlsx(b"".join(response.streaming_content))["Cases"].values
    assert [row[1] for row in cells[1:]] == ["Fay Fisher", "Cat Cooper", "Gus Grant"]
    assert exports().get().context["format"] == "xlsx"


def test_the_action_runs_a_fixed_number_of_queries(company, hr, django_assert_max_num_queries):
    # Sign-in, permissions, the cycles, the count, the columns, the audit event and the row streams: 23 here.
    with django_assert_max_num_queries(25):
        small = csv_rows(run_action(hr, "export_cases_csv", company.h1, company.h2))
    grow(company, 20)
    with django_assert_max_num_queries(25):
        large = csv_rows(run_action(hr, "export_cases_csv", company.h1, company.h2))

    assert (len(small), len(large)) == (8, 28)


def test_staff_without_the_reports_permission_get_no_export(company, client):
    # A CX reviewer who may look at cycles in the admin, but not read the compliance reports.
    user = UserFactory(username="cx-staff", is_staff=True)
    user.groups.add(company.users["rev1"].groups.get(name=Role.CX_REVIEWER))
    user.user_permissions.add(Permission.objects.get(codename="view_cycle"))
    client.force_login(user)

    page = client.get(reverse(CHANGELIST)).content.decode()
    response = run_action(client, "export_cases_csv", company.h1)

    assert "export_cases_csv" not in page and "export_cases_xlsx" not in page
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")  # the list, no file
    assert "Content-Disposition" not in response
    assert not exports().exists()


@override_settings(REPORTS_ASYNC_EXPORT_ROWS=5)
def test_a_large_export_becomes_a_job_with_a_message(company, hr, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = run_action(hr, "export_cases_csv", company.h1, company.h2)

    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["8 rows: the export runs in the background. Its progress and download link are under "
                        "Your exports on the dashboard."]  # fmt: skip
    job = ExportJob.objects.get()
    assert (job.status, job.rows_expected, job.requested_by) == (ExportStatus.QUEUED, 8, company.users["hr-a"])
    assert len([c for c in callbacks if "export_job_request" in getattr(c, "__qualname__", "")]) == 1
    assert not exports().exists()  # recorded when the worker writes the file

    export_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows_written) == (ExportStatus.DONE, 8)
    event = exports().get()
    assert (reveal(event.actor_name), event.context["rows"], event.context["job_id"]) == ("hr-a", 8, job.pk)
