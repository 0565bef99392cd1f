"""The dashboard reads at a glance: a first screen of headline figures and charts, each linking to its own paginated,
sortable, filterable table; the figures are checked against the ones worked out by hand in conftest.py."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from apps.reports.views.tables import DRILL_DOWNS
from tests.factories.org import OrgUnitFactory
from tests.reports.conftest import grow

pytestmark = pytest.mark.django_db


def figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'<dd data-figure="([a-z]+)">([^<]*)</dd>', html))


def see_table_links(html: str) -> list[str]:
    return [unescape(url) for url in re.findall(r'<p class="see-table"><a href="([^"]+)"[^>]*>See the table', html)]


def body_rows(html: str) -> list[str]:
    """The first cell of each row of the drill-down table."""
    tbody = html.split("<tbody>")[1].split("</tbody>")[0]
    return [unescape(cell) for cell in re.findall(r'<th scope="row"[^>]*>([^<]*)</th>', tbody)]


def silent_units(company, n: int) -> None:
    """`n` more active units under Acme with nobody in them: each has no verified evidence."""
    for index in range(n):
        OrgUnitFactory(name=f"Unit {index:03d}", code=f"unit-{index:03d}", parent=company.units["acme"],
                       customer_layer=1 + index % 3)  # fmt: skip


def test_the_headline_figures_are_the_hand_computed_ones(company, client_for):
    html = client_for(company.users["leader"]).get(reverse("reports:dashboard")).content.decode()

    assert figures(html) == {
        "judged": "4",  # A, B, C approved (B by exception), D rejected; E withdrawn, F-H open
        "compliant": "50%",  # A and C met their policy at decision: 2 of 4
        "exceptions": "33%",  # B: 1 of 3 approvals
        "operational": "25%",  # of 4 verified items (Ann, Cat, Fay stories and Ann's KPI), Ann's KPI
        "silent": "3",  # Acme (Cleo), Finance (Eve, Gus: nothing verified) and Legal (Lee)
        "overdue": "1",  # Fay's survey score, waiting 8 days (over 5); Gus's story waits 1 day
    }
    assert "of 7 cases, 3 still open" in html
    assert "outcome scores 0%" in html  # Fay's score is submitted, not verified
    assert "of 5 active units (60%)" in html


def test_the_first_screen_has_charts_and_no_big_table(company, client_for):
    html = client_for(company.users["leader"]).get(reverse("reports:dashboard")).content.decode()

    for chart in ("rituals", "layers", "units", "trend", "mix", "taking-part"):
        assert f'data-chart="chart-{chart}"' in html
    assert "Promotion: 50% (2 of 4)" in html  # the ritual chart's bar
    assert "Layer 0: 50% (1 of 2)" in html  # Front desk's A and B
    taking_part = html.split('data-chart="chart-taking-part"')[1].split("</svg>")[0]
    assert "Layer 0: 50% (1 of 2)" in taking_part  # Front desk brought verified evidence, Acme did not
    assert "Layer 2: 0% (0 of 2)" in taking_part  # Finance and Legal both silent
    assert "<tbody>" not in html  # no table (and no export job yet)
    assert "One customer story" in html  # the top blocking requirement, in a short list


def test_the_first_screen_stays_small_with_hundreds_of_units(company, client_for, django_assert_max_num_queries):
    silent_units(company, 300)
    client = client_for(company.users["leader"])

    with django_assert_max_num_queries(40):
        response = client.get(reverse("reports:dashboard"))

    assert response.status_code == 200
    assert len(response.content) < 150_000
    assert response.content.decode().count("Unit 299") == 1  # in the unit filter's choices only


def test_every_chart_links_to_its_table_with_the_filters(company, client_for):
    query = {"unit": "finance", "from": "2026-01-01", "to": "2026-12-31", "ritual": "promotion"}
    html = client_for(company.users["leader"]).get(reverse("reports:dashboard"), query).content.decode()

    links = see_table_links(html)
    assert [link.split("?")[0] for link in links] == [
        reverse("reports:table", args=[slug])
        for slug in ("rituals", "layers", "units", "cycles", "evidence", "silent-units", "insights", "blocking")
    ]
    for link in links:
        assert link.endswith("?ritual=promotion&unit=finance&from=2026-01-01&to=2026-12-31")


def test_a_drill_down_keeps_the_first_screens_filters(company, client_for):
    client = client_for(company.users["leader"])
    html = client.get(reverse("reports:dashboard"), {"unit": "finance"}).content.decode()
    units_link = see_table_links(html)[2]

    table = client.get(units_link).content.decode()

    assert body_rows(table) == ["Finance", "Payroll"]
    assert 'value="finance" selected' in table  # the filter form shows the filter
    assert 'action="/reports/export/compliance.csv"' in table
    assert '<input type="hidden" name="unit" value="finance">' in table  # downloads carry it too


@pytest.mark.parametrize("slug", sorted(DRILL_DOWNS))
def test_every_drill_down_shows_its_table_and_downloads(company, client_for, slug):
    response = client_for(company.users["hr-a"]).get(reverse("reports:table", args=[slug]))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{DRILL_DOWNS[slug].title}</h1>" in unescape(html)
    assert f"Download {DRILL_DOWNS[slug].title} as CSV" in unescape(html)
    assert "<tbody>" in html or DRILL_DOWNS[slug].empty in unescape(html)


def test_a_drill_down_shows_50_rows_a_page(company, client_for):
    silent_units(company, 60)  # with Acme, Finance and Legal: 63 units without evidence
    client = client_for(company.users["leader"])
    url = reverse("reports:table", args=["silent-units"])

    first = client.get(url, {"sort": "unit"}).content.decode()
    second = client.get(url, {"sort": "unit", "page": "2"}).content.decode()

    assert "63 rows, page 1 of 2" in first
    assert len(body_rows(first)) == 50 and body_rows(first)[:2] == ["Acme", "Finance"]
    assert 'href="/reports/silent-units/?sort=unit&amp;page=2" rel="next"' in first
    assert body_rows(second) == [f"Unit {index:03d}" for index in range(47, 60)]
    assert "Rows 51–63 of 63" in second


def test_a_drill_down_sorts_by_any_column_both_ways(company, client_for):
    client = client_for(company.users["leader"])
    url = reverse("reports:table", args=["units"])

    tree = body_rows(client.get(url).content.decode())
    by_name = client.get(url, {"sort": "unit"}).content.decode()
    by_name_reversed = body_rows(client.get(url, {"sort": "-unit"}).content.decode())
    by_cases = body_rows(client.get(url, {"sort": "-cases"}).content.decode())

    assert tree == ["Acme", "Finance", "Payroll", "Front desk"]  # the tree, indented
    assert body_rows(by_name) == ["Acme", "Finance", "Front desk", "Payroll"]
    assert 'aria-sort="ascending"><a href="/reports/units/?sort=-unit">Unit ▲' in by_name
    assert by_name_reversed == ["Payroll", "Front desk", "Finance", "Acme"]
    assert by_cases[:2] == ["Acme", "Finance"]  # 7 cases, then 4 (Eve's withdrawn case not counted)


def test_a_drill_down_sorts_empty_figures_last(company, client_for):
    html = client_for(company.users["leader"]).get(reverse("reports:table", args=["cycles"]),
                                                   {"sort": "-compliance"}).content.decode()  # fmt: skip

    assert body_rows(html) == ["Promotions H1", "Promotions H2"]  # H2 has no decision yet


def test_an_unknown_sort_column_says_so(company, client_for):
    response = client_for(company.users["leader"]).get(reverse("reports:table", args=["units"]), {"sort": "nope"})

    assert response.status_code == 400
    assert "Cannot sort by “nope”: choose a column heading." in response.content.decode()


def test_invalid_filters_on_a_drill_down_show_the_error(company, client_for):
    response = client_for(company.users["leader"]).get(reverse("reports:table", args=["units"]),
                                                       {"from": "2026-12-01", "to": "2026-01-01"})  # fmt: skip

    assert response.status_code == 400
    assert "cannot be before its start" in response.content.decode()


def test_an_unknown_table_is_not_found(company, client_for):
    assert client_for(company.users["leader"]).get("/reports/nope/").status_code == 404


def test_drill_downs_are_for_leadership_and_hr_only(company, client, client_for):
    url = reverse("reports:table", args=["units"])

    assert client.get(url).status_code == 302
    assert client_for(company.users["ann"]).get(url).status_code == 403


@pytest.mark.parametrize("slug", ["units", "silent-units", "reviewers"])
def test_a_drill_down_runs_a_fixed_number_of_queries(company, client_for, django_assert_max_num_queries, slug):
    client = client_for(company.users["leader"])
    counts = []
    for _ in range(2):
        with django_assert_max_num_queries(20) as captured:
            assert client.get(reverse("reports:table", args=[slug])).status_code == 200
        counts.append(len(captured.captured_queries))
        grow(company, 30)
    assert counts[0] == counts[1]
