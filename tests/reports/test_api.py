"""The reports API returns the dashboard's figures as JSON, to Leadership and HR only."""

import pytest
from rest_framework.test import APIClient

from apps.org.selectors import org_tree_get
from apps.reports.filters import ReportFilters
from apps.reports.models import ExportJob
from apps.reports.selectors import compliance_report
from tests.reports.test_views import EVIDENCE_TEXT

pytestmark = pytest.mark.django_db

ENDPOINTS = ["compliance", "evidence-mix", "review-health", "boundary", "inventory", "unmet-requirements"]


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_employees_get_403_and_anonymous_401(company, endpoint):
    assert api(company.users["ann"]).get(f"/api/reports/{endpoint}/").status_code == 403
    assert api().get(f"/api/reports/{endpoint}/").status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_leadership_gets_every_report_without_evidence_text(company, endpoint):
    response = api(company.users["leader"]).get(f"/api/reports/{endpoint}/")

    assert response.status_code == 200
    body = response.content.decode()
    for text in EVIDENCE_TEXT:
        assert text not in body


def test_compliance_json_has_the_same_figures_as_the_selector(company):
    response = api(company.users["hr-a"]).get("/api/reports/compliance/", {"unit": "finance"})

    data = response.json()
    expected = compliance_report(filters=ReportFilters(unit_id=company.units["finance"].pk), tree=org_tree_get())
    assert data["filters"]["unit"] == company.units["finance"].pk
    assert data["total"] == expected.total.as_dict()
    assert [(row["name"], row["figures"]["cases"]) for row in data["units"]] == [("Finance", 4), ("Payroll", 3)]
    assert data["units"][0]["figures"]["compliance_rate"] == 0.5


def test_the_other_reports_in_json(company):
    client = api(company.users["leader"])

    mix = client.get("/api/reports/evidence-mix/").json()
    assert (mix["items"], mix["verified"], mix["flagged_items"]) == (7, 4, 1)
    health = client.get("/api/reports/review-health/").json()
    assert (health["waiting"], health["median_hours"], health["p90_hours"]) == (2, 30, 200)
    boundary = client.get("/api/reports/boundary/").json()
    assert [unit["name"] for unit in boundary["silent"]] == ["Acme", "Finance", "Legal"]
    unmet = client.get("/api/reports/unmet-requirements/").json()["requirements"]
    assert [(row["label"], row["blocked"]) for row in unmet] == [("One customer story", 3), ("One operational KPI", 2)]
    inventory = client.get("/api/reports/inventory/").json()["requirements"]
    assert inventory[0]["org_unit"] == "Front desk"


def test_invalid_filters_are_a_400_naming_the_field(company):
    response = api(company.users["leader"]).get("/api/reports/compliance/", {"unit": "no-such-unit"})

    assert response.status_code == 400
    assert "unit" in response.json()


def test_asking_for_an_export_queues_a_job_and_shows_its_progress(company, django_capture_on_commit_callbacks):
    client = api(company.users["leader"])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/api/reports/exports/", {"report": "cases", "format": "csv", "cycle": company.h2.pk},
                               format="json")  # fmt: skip

    assert response.status_code == 202
    job = ExportJob.objects.get()
    assert response.json()["id"] == job.pk and response.json()["rows_expected"] == 3
    assert job.filters["cycle"] == company.h2.pk
    assert client.get(f"/api/reports/exports/{job.pk}/").json()["status"] == "queued"
    assert [row["id"] for row in client.get("/api/reports/exports/").json()["results"]] == [job.pk]
    assert api(company.users["hr-a"]).get(f"/api/reports/exports/{job.pk}/").status_code == 200  # HR sees all
    assert client.get(f"/api/reports/exports/{job.pk}/download/").status_code == 404  # not finished


def test_the_schema_documents_the_report_endpoints(company):
    response = api(company.users["leader"]).get("/api/schema/", {"format": "json"})

    paths = response.json()["paths"]
    assert "/api/reports/compliance/" in paths and "/api/reports/exports/" in paths
