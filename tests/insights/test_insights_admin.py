"""The HR admin of insights: read-only insights with filters, routing rules HR edits (audited), inbox rows."""

from __future__ import annotations

from typing import Any

import pytest

from apps.audit.models import AuditEvent
from apps.insights.models import RoutingRule
from apps.insights.services import insights_ingest
from tests.factories.insights import InsightFactory, InsightRouteFactory, RoutingRuleFactory

from .conftest import row

CHANGELIST = "/admin/insights/insight/"


@pytest.fixture
def hr_client(client: Any, hr_user: Any) -> Any:
    client.force_login(hr_user)
    return client


def test_hr_adds_a_routing_rule_and_the_trail_records_it(hr_client, org):
    response = hr_client.post(
        "/admin/insights/routingrule/add/",
        {
            "name": "Billing hears about invoices",
            "unit": org["billing"].pk,
            "touchpoint": org["invoice"].pk,
            "journey_stage": "",
            "active": "on",
        },  # fmt: skip
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert (rule.unit, rule.touchpoint) == (org["billing"], org["invoice"])
    assert AuditEvent.objects.filter(object_type="insights.routingrule", object_id=str(rule.pk)).exists()


def test_hr_edits_a_routing_rule_and_the_trail_has_the_change(hr_client, hr_user, org):
    rule = RoutingRuleFactory(unit=org["billing"], touchpoint=org["invoice"], name="Invoices")
    response = hr_client.post(
        f"/admin/insights/routingrule/{rule.pk}/change/",
        {
            "name": "Invoices",
            "unit": org["support"].pk,
            "touchpoint": org["invoice"].pk,
            "journey_stage": "",
            "active": "",
        },  # fmt: skip
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.unit, rule.active) == (org["support"], False)
    event = AuditEvent.objects.filter(object_type="insights.routingrule", object_id=str(rule.pk)).latest("id")
    assert event.actor_user_id == hr_user.pk
    assert {"unit", "active"} <= set(event.changes)


def test_rule_without_touchpoint_or_stage_is_refused_next_to_the_fields(hr_client, org):
    response = hr_client.post(
        "/admin/insights/routingrule/add/",
        {"name": "Nothing", "unit": org["billing"].pk, "touchpoint": "", "journey_stage": "", "active": "on"},
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "Choose a touchpoint or a journey stage" in form.errors["touchpoint"][0]
    assert "journey_stage" in form.errors and not form.non_field_errors()
    assert not RoutingRule.objects.exists()


def test_insight_changelist_costs_a_fixed_number_of_queries(hr_client, org, django_assert_max_num_queries):
    for _ in range(40):
        InsightRouteFactory(insight=InsightFactory(touchpoint=org["invoice"]), unit=org["billing"])
    with django_assert_max_num_queries(14):
        response = hr_client.get(CHANGELIST)
    assert response.status_code == 200
    assert "billing" in response.content.decode()
    assert response.context["cl"].show_full_result_count is False


def test_unrouted_and_flagged_filters_find_what_they_say(hr_client, org, source_user):
    insights_ingest(
        source_system="qualtrics",
        rows=[
            row("routed"),
            row("lost", touchpoint="checkout"),
            row("asked", text="She asked me to give a 10 please."),
        ],
        by=source_user,
    )

    def listed(**params: str) -> set[str]:
        response = hr_client.get(CHANGELIST, params)
        assert response.status_code == 200
        return {insight.source_id for insight in response.context["cl"].result_list}

    assert listed(routed="no") == {"lost"}
    assert listed(flagged="yes") == {"asked"}
    assert listed(q="lost") == {"lost"}


def test_insights_are_read_only_in_the_admin(hr_client, org):
    insight = InsightFactory()
    assert hr_client.get("/admin/insights/insight/add/").status_code == 403
    page = hr_client.get(f"/admin/insights/insight/{insight.pk}/change/")
    assert page.status_code == 200
    assert b'name="text"' not in page.content


def test_inbox_rows_list_within_a_query_budget_and_filter_by_layer(hr_client, org, django_assert_max_num_queries):
    for _ in range(20):
        InsightRouteFactory(unit=org["billing"])
    InsightRouteFactory(unit=org["onboarding"])
    with django_assert_max_num_queries(10):
        response = hr_client.get("/admin/insights/insightroute/", {"layer": "1"})
    assert [route.unit for route in response.context["cl"].result_list] == [org["onboarding"]]


def test_routing_rule_changelist_within_a_query_budget(hr_client, org, django_assert_max_num_queries):
    for _ in range(20):
        RoutingRuleFactory(unit=org["support"])
    with django_assert_max_num_queries(14):
        assert hr_client.get("/admin/insights/routingrule/").status_code == 200


def test_the_hr_home_lists_insights_with_evidence(hr_client):
    from apps.insights.models import Insight, InsightRoute
    from apps.reports.admin_site import EVIDENCE, section_of

    assert {section_of(model) for model in (Insight, RoutingRule, InsightRoute)} == {EVIDENCE}


def test_an_inbox_row_page_is_read_only(hr_client, org):
    route = InsightRouteFactory(unit=org["billing"])
    page = hr_client.get(f"/admin/insights/insightroute/{route.pk}/change/")
    assert page.status_code == 200
    assert b'name="status"' not in page.content
