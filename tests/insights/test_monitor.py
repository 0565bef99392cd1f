"""The insight monitor: every figure against hand-computed ones on a small organisation, its filters, who may read
it, its query budget, the drill-down page, the dashboard chart, the API and the downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.common.roles import Role, ensure_role_groups
from apps.insights.constants import InboxStatus
from apps.insights.models import InsightRoute
from apps.reports.filters import ReportFilters
from apps.reports.selectors.insights import insight_monitor
from tests.factories.insights import InsightRouteFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

TODAY = timezone.localdate()


def at(days_ago: int) -> dt.datetime:
    """Noon, `days_ago` days before today, in the site's time zone."""
    day = TODAY - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def route(unit: Any, routed: int, responded: int | None = None) -> InsightRoute:
    """An insight routed to `unit` `routed` days ago, answered by a response verified `responded` days ago."""
    item = InsightRouteFactory(unit=unit)
    fields: dict[str, Any] = {"routed_at": at(routed)}
    if responded is not None:
        fields.update(status=InboxStatus.RESPONDED, responded_at=at(responded), closed_at=at(responded))
    InsightRoute.objects.filter(pk=item.pk).audited_update(**fields)
    return item


@pytest.fixture
def monitored(db: Any, settings: Any) -> dict[str, Any]:
    """Front desk (layer 0) answers most, Billing (layer 1) answers all, Procurement (layer 1) answers none and
    Legal (layer 1) receives nothing. Days to response: front 5, 20, 0 (and one open); billing 14, 2."""
    settings.INSIGHTS_RESPONSE_DAYS = 14
    company = OrgUnitFactory(name="Company", code="company")
    front = OrgUnitFactory(name="Front desk", code="front", parent=company)
    back = OrgUnitFactory(name="Back office", code="back", parent=company, customer_layer=1)
    billing = OrgUnitFactory(name="Billing", code="billing-m", parent=back, customer_layer=1)
    procurement = OrgUnitFactory(name="Procurement", code="procurement", parent=back, customer_layer=1)
    OrgUnitFactory(name="Legal", code="legal", parent=back, customer_layer=1)
    route(front, 30, 25)
    route(front, 30, 10)
    route(front, 20, 20)
    route(front, 5)
    route(billing, 40, 26)
    route(billing, 3, 1)
    for days in (50, 2, 1):
        route(procurement, days)
    return {"company": company, "front": front, "back": back, "billing": billing, "procurement": procurement}


def figures(row: Any) -> tuple[Any, ...]:
    f = row.figures
    return (f.received, f.responded, f.in_time, f.share_in_time, f.median_days)


def by_code(monitor: Any) -> dict[str, tuple[Any, ...]]:
    return {row.code: figures(row) for row in monitor.units}


def test_unit_figures_match_hand_computed_ones(monitored: dict[str, Any]) -> None:
    monitor = insight_monitor(filters=ReportFilters())

    assert by_code(monitor) == {
        "front": (4, 3, 2, 0.5, 5.0),
        "billing-m": (2, 2, 2, 1.0, 8.0),
        "procurement": (3, 0, 0, 0.0, None),
    }
    assert [row.code for row in monitor.units] == ["front", "procurement", "billing-m"]  # most insights first


def test_layer_totals_add_up_their_units_and_count_units_without_responses(monitored: dict[str, Any]) -> None:
    monitor = insight_monitor(filters=ReportFilters())

    layers = {row.customer_layer: (row.units, row.units_unanswered, *figures(row)) for row in monitor.layers}
    assert layers == {0: (1, 0, 4, 3, 2, 0.5, 5.0), 1: (2, 1, 5, 2, 2, 0.4, 8.0)}
    total = monitor.total
    assert (total.received, total.responded, total.in_time, total.median_days) == (9, 5, 4, 5.0)


def test_units_with_insights_but_no_response_are_listed_and_units_without_insights_are_not(
    monitored: dict[str, Any],
) -> None:
    monitor = insight_monitor(filters=ReportFilters())

    assert [row.code for row in monitor.unanswered] == ["procurement"]
    assert "legal" not in by_code(monitor)


def test_a_response_on_the_last_day_of_the_window_is_in_time(monitored: dict[str, Any], settings: Any) -> None:
    settings.INSIGHTS_RESPONSE_DAYS = 13  # billing's 14-day response is now late

    assert by_code(insight_monitor(filters=ReportFilters()))["billing-m"][:3] == (2, 2, 1)


def test_dates_filter_insights_by_the_day_they_arrived(monitored: dict[str, Any]) -> None:
    monitor = insight_monitor(filters=ReportFilters(date_from=TODAY - dt.timedelta(days=25)))

    assert by_code(monitor) == {
        "front": (2, 1, 1, 0.5, 0.0),
        "billing-m": (1, 1, 1, 1.0, 2.0),
        "procurement": (2, 0, 0, 0.0, None),
    }


def test_unit_filter_takes_the_unit_and_everything_under_it(monitored: dict[str, Any]) -> None:
    monitor = insight_monitor(filters=ReportFilters(unit_id=monitored["back"].pk))

    assert set(by_code(monitor)) == {"billing-m", "procurement"}


def test_as_of_leaves_out_later_insights_and_later_responses(monitored: dict[str, Any]) -> None:
    monitor = insight_monitor(filters=ReportFilters(), as_of=TODAY - dt.timedelta(days=15))

    # Front desk then: three insights, the one answered 10 days ago still open.
    assert by_code(monitor)["front"] == (3, 2, 2, 2 / 3, 2.5)
    assert by_code(monitor)["billing-m"] == (1, 1, 1, 1.0, 14.0)


def test_the_monitor_is_one_query_whatever_the_number_of_insights(
    monitored: dict[str, Any], django_assert_num_queries: Any
) -> None:
    for _ in range(20):
        route(monitored["billing"], 4, 2)
    with django_assert_num_queries(1):
        insight_monitor(filters=ReportFilters())
    with django_assert_num_queries(2):  # and the org tree, for a unit filter
        insight_monitor(filters=ReportFilters(unit_id=monitored["back"].pk))


# Faces: page, dashboard, API, downloads, permissions


@pytest.fixture
def leader(db: Any) -> Any:
    user = UserFactory(username="leader")
    user.groups.add(ensure_role_groups()[Role.LEADERSHIP])
    return user


@pytest.fixture
def employee(monitored: dict[str, Any]) -> Any:
    return EmployeeFactory(org_unit=monitored["front"], user=UserFactory(username="emma")).user


def test_the_drill_down_lists_each_unit_with_its_figures(
    monitored: dict[str, Any], leader: Any, client: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(leader)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("reports:table", args=["insights"]), {"sort": "-share"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Customer insights: responses by unit" in page
    page = page[page.index("<tbody>") :]
    assert page.index("Billing") < page.index("Front desk") < page.index("Procurement")  # 100%, 50%, 0%


def test_the_drill_down_says_so_when_no_insight_arrived(leader: Any, client: Any) -> None:
    client.force_login(leader)

    response = client.get(reverse("reports:table", args=["insights"]))

    assert "No insight reached any unit for these filters" in response.content.decode()


def test_the_dashboard_shows_units_answering_their_customers_by_layer(
    monitored: dict[str, Any], leader: Any, client: Any
) -> None:
    client.force_login(leader)

    page = client.get(reverse("reports:dashboard")).content.decode()

    assert "Units answering their customers" in page
    assert "50% (2 of 4)" in page and "40% (2 of 5)" in page
    assert reverse("reports:table", args=["insights"]) in page


def test_the_api_gives_units_layers_and_the_units_with_no_response(
    monitored: dict[str, Any], leader: Any, client: Any
) -> None:
    client.force_login(leader)

    data = client.get(reverse("reports_api:insights"), {"unit": "back"}).json()

    assert data["response_days"] == 14 and data["filters"]["unit"] == monitored["back"].pk
    assert data["units"][0] == {
        "unit": "procurement",
        "name": "Procurement",
        "customer_layer": 1,
        "received": 3,
        "responded": 0,
        "responded_in_time": 0,
        "share_in_time": 0.0,
        "median_days_to_response": None,
        "no_response": True,
    }
    assert data["layers"] == [
        {
            "customer_layer": 1,
            "units": 2,
            "units_with_no_response": 1,
            "received": 5,
            "responded": 2,
            "responded_in_time": 2,
            "share_in_time": 0.4,
            "median_days_to_response": 8.0,
        }
    ]
    assert data["units_with_no_response"] == ["procurement"]


def test_the_api_refuses_bad_filters_with_field_errors(leader: Any, client: Any) -> None:
    client.force_login(leader)

    response = client.get(reverse("reports_api:insights"), {"from": "2026-05-01", "to": "2026-04-01"})

    assert response.status_code == 400 and "date_to" in response.json()


def test_the_csv_download_has_a_row_per_unit(monitored: dict[str, Any], leader: Any, client: Any) -> None:
    client.force_login(leader)

    response = client.post(reverse("reports:export", args=["insights", "csv"]))

    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Insights by unit" in text and "Insights by layer" in text
    rows = list(csv.reader(io.StringIO(text)))
    front = next(row for row in rows if row[:1] == ["Front desk"])
    assert front[1:8] == ["front", "0", "4", "3", "2", "50.0", "5.0"]


def test_the_xlsx_download_works(monitored: dict[str, Any], leader: Any, client: Any) -> None:
    client.force_login(leader)

    response = client.post(reverse("reports:export", args=["insights", "xlsx"]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"


def test_an_employee_may_not_read_the_monitor(employee: Any, client: Any) -> None:
    client.force_login(employee)

    assert client.get(reverse("reports_api:insights")).status_code == 403
    assert client.get(reverse("reports:table", args=["insights"])).status_code == 403
    assert client.post(reverse("reports:export", args=["insights", "csv"])).status_code == 403
