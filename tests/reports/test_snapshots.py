"""Stored dashboard figures: the dashboard and its tables read the reports of their filters as computed a few minutes
ago (saying when), compute them when missing or too old, and beat keeps the ones people read computed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.reports.filters import ReportFilters
from apps.reports.snapshots import snapshots_refresh, stored_reports
from apps.reports.tasks import refresh_snapshots
from tests.reports.conftest import grow

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(settings):
    """Stored figures on (five minutes), in a cache emptied before and after the test."""
    settings.REPORTS_SNAPSHOT_SECONDS = 300
    cache.clear()
    yield
    cache.clear()


def judged(html: str) -> str:
    return re.search(r'<dd data-figure="judged">([^<]*)</dd>', html).group(1)


def tbody(html: str) -> str:
    return html.split("<tbody>")[1].split("</tbody>")[0]


def statements(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_a_second_reader_gets_the_stored_figures_without_recomputing_them(company, client_for, stored):
    client = client_for(company.users["leader"])
    url = reverse("reports:dashboard")

    first = statements(client, url)
    second = statements(client, url)

    assert second < first - 10  # the reports' aggregate queries ran once
    html = client.get(url).content.decode()
    assert judged(html) == "4"
    assert "Figures as of" in html and "computed again every 5 minutes" in html


def test_stored_figures_wait_for_the_refresh_and_refresh_now_shows_the_change(company, client_for, stored):
    client = client_for(company.users["leader"])
    url = reverse("reports:dashboard")
    assert judged(client.get(url).content.decode()) == "4"

    grow(company, 2)  # one more case approved

    assert judged(client.get(url).content.decode()) == "4"  # as of the stored time, which the page says
    refreshed = client.get(url, {"refresh": "1"}).content.decode()
    assert judged(refreshed) == "5"
    assert judged(client.get(url).content.decode()) == "5"  # and stored for the next reader


def test_a_drill_down_reads_the_dashboards_stored_figures(company, client_for, stored):
    client = client_for(company.users["leader"])
    url = reverse("reports:table", args=["cycles"])
    client.get(reverse("reports:dashboard"))  # stores the figures of these filters
    before = tbody(client.get(url).content.decode())
    grow(company, 2)

    html = client.get(url).content.decode()

    assert "Figures as of" in html
    assert tbody(html) == before
    client.get(reverse("reports:dashboard"), {"refresh": "1"})
    assert tbody(client.get(url).content.decode()) != before


def test_figures_older_than_the_setting_are_computed_again(company, stored):
    now = timezone.now()
    today = timezone.localdate()
    old = stored_reports(filters=ReportFilters(), today=today, now=now)
    assert old.compliance.total.decided == 4
    grow(company, 2)

    young = stored_reports(filters=ReportFilters(), today=today, now=now + dt.timedelta(seconds=299))
    aged = stored_reports(filters=ReportFilters(), today=today, now=now + dt.timedelta(seconds=301))

    assert young.compliance.total.decided == 4
    assert young.computed_at == old.computed_at
    assert aged.compliance.total.decided == 5
    assert aged.computed_at > old.computed_at


def test_each_set_of_filters_has_its_own_figures(company, stored):
    today = timezone.localdate()
    everything = stored_reports(filters=ReportFilters(), today=today)
    finance = stored_reports(filters=ReportFilters(unit_id=company.units["finance"].pk), today=today)

    assert finance.compliance.total.cases < everything.compliance.total.cases


def test_a_page_computes_only_the_reports_it_reads(company, stored):
    reports = stored_reports(filters=ReportFilters(), today=timezone.localdate())
    assert reports.compliance.total.decided == 4

    again = stored_reports(filters=ReportFilters(), today=timezone.localdate())
    with CaptureQueriesContext(connection) as ctx:
        assert again.compliance.total.decided == 4
    assert len(ctx.captured_queries) == 0
    with CaptureQueriesContext(connection) as ctx:
        assert again.evidence_mix.verified == 4  # never computed yet: computed now
    assert len(ctx.captured_queries) > 0


def test_the_api_serves_the_stored_figures_with_their_time_and_refreshes_on_request(company, client_for, stored):
    client = client_for(company.users["leader"])
    url = reverse("reports_api:compliance")
    first = client.get(url).json()
    grow(company, 2)

    stale = client.get(url).json()
    fresh = client.get(url, {"refresh": "1"}).json()

    assert stale["total"]["decided"] == first["total"]["decided"] == 4
    assert stale["computed_at"] == first["computed_at"]
    assert fresh["total"]["decided"] == 5 and fresh["computed_at"] > first["computed_at"]


def test_beat_recomputes_the_whole_company_and_the_filters_opened_within_the_hour(company, stored):
    today = timezone.localdate()
    now = timezone.now()
    finance = ReportFilters(unit_id=company.units["finance"].pk)
    legal = ReportFilters(unit_id=company.units["legal"].pk)
    stored_reports(filters=finance, today=today, now=now - dt.timedelta(minutes=10))
    stored_reports(filters=legal, today=today, now=now - dt.timedelta(minutes=61))

    computed = snapshots_refresh(now=now, today=today)

    assert [reports.filters for reports in computed] == [ReportFilters(), finance]
    assert refresh_snapshots.apply().get() == 2  # the beat task, eagerly


def test_with_stored_figures_off_every_page_computes_live_and_says_nothing(company, client_for, settings):
    settings.REPORTS_SNAPSHOT_SECONDS = 0
    client = client_for(company.users["leader"])
    url = reverse("reports:dashboard")
    client.get(url)
    grow(company, 2)

    html = client.get(url).content.decode()

    assert judged(html) == "5"
    assert "Figures as of" not in html
    assert snapshots_refresh() == []
