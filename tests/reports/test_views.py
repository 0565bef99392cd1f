"""The dashboard: who may see it, what it shows (figures, never evidence text), and its fixed query count."""

import re

import pytest
from django.urls import reverse

from tests.reports.conftest import SOLICITING_QUOTE, grow

pytestmark = pytest.mark.django_db

EVIDENCE_TEXT = [
    "I could not book a room for my wheelchair",  # the factories' customer quote
    "Accessible rooms were invisible to online guests",  # interpretation
    "Rebuilt the filter and called the guest back",  # response
    SOLICITING_QUOTE,
    "Ann story",  # titles
    "Fay survey score",
    "give us a 10",  # the flag's reason quotes the item
]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("reports:dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize("who", ["ann", "lee", "rev1"])
def test_employees_and_reviewers_get_403(company, client_for, who):
    client = client_for(company.users[who])

    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 403
    assert "Leadership and HR" in response.content.decode()
    assert client.post(reverse("reports:export", args=["cases", "csv"])).status_code == 403


def test_a_manager_is_not_leadership(company, client_for):
    from tests.factories.org import UserFactory

    mia = company.people["mia"]
    mia.user = UserFactory(username="mia")
    mia.save()

    assert client_for(mia.user).get(reverse("reports:dashboard")).status_code == 403


@pytest.mark.parametrize("who", ["leader", "hr-a"])
def test_leadership_and_hr_see_the_figures(company, client_for, who):
    response = client_for(company.users[who]).get(reverse("reports:dashboard"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Compliance dashboard" in html
    assert re.search(r'Compliant at decision</dt><dd data-figure="compliant">50%', html)
    assert "Payroll" in html and "Legal" in html  # a unit of the tree, and a silent unit
    assert "One operational KPI" in html  # ranking and inventory
    assert 'aria-current="page">Dashboard</a>' in html  # the nav link


def test_leadership_never_sees_evidence_text(company, client_for):
    client = client_for(company.users["leader"])
    html = client.get(reverse("reports:dashboard")).content.decode()
    exports = [
        b"".join(client.post(reverse("reports:export", args=[kind, "csv"])).streaming_content).decode()
        for kind in ("summary", "cases")
    ]

    for text in EVIDENCE_TEXT:
        assert text not in html
        for export in exports:
            assert text not in export


def test_the_charts_are_inline_svg_with_their_figures_and_no_external_resource(company, client_for):
    html = client_for(company.users["leader"]).get(reverse("reports:dashboard")).content.decode()

    assert html.count('class="chart-svg"') == 7  # the seven charts (the bell in the top bar is an icon)
    assert "<img" not in html and '<script src="http' not in html
    for chart in (
        "chart-rituals",
        "chart-layers",
        "chart-units",
        "chart-trend",
        "chart-mix",
        "chart-taking-part",
        "chart-insights",
    ):
        assert f'data-chart="{chart}"' in html
    assert "Front desk: 50% (1 of 2)" in html  # the unit chart's bar
    assert "Promotions H1: 50%" in html  # the trend's bar
    assert "Customer story: 75%" in html  # the evidence mix
    assert not re.search(r"""(src|href)=["']https?://""", html)


def test_invalid_filters_show_the_error_and_no_figures(company, client_for):
    response = client_for(company.users["leader"]).get(reverse("reports:dashboard"), {"from": "2026-12-01",
                                                                                      "to": "2026-01-01"})  # fmt: skip

    assert response.status_code == 400
    assert "cannot be before its start" in response.content.decode()


def test_filters_narrow_the_dashboard(company, client_for):
    html = client_for(company.users["leader"]).get(reverse("reports:dashboard"), {"unit": "payroll"}).content.decode()

    units_chart = html.split('data-chart="chart-units"')[1].split("</svg>")[0]
    assert "Payroll: 50% (1 of 2)" in units_chart
    assert "Front desk" not in units_chart


def test_exports_need_post(company, client_for):
    client = client_for(company.users["leader"])

    assert client.get(reverse("reports:export", args=["cases", "csv"])).status_code == 405
    assert client.post(reverse("reports:export", args=["nope", "csv"])).status_code == 404
    assert client.post(reverse("reports:export", args=["cases", "pdf"])).status_code == 404


def test_the_dashboard_runs_a_fixed_number_of_queries(company, client_for, django_assert_max_num_queries):
    client = client_for(company.users["leader"])
    counts = []
    for _ in range(2):
        with django_assert_max_num_queries(40) as captured:
            assert client.get(reverse("reports:dashboard")).status_code == 200
        counts.append(len(captured.captured_queries))
        grow(company, 30)
    assert counts[0] == counts[1]
