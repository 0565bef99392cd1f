"""Internal customers: an employee tells another group what their group needs, and it lands in that group's inbox."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from apps.evidence.constants import CustomerType
from apps.insights.constants import Channel, InboxStatus, RouteReason
from apps.insights.inbox import insight_raise
from apps.insights.models import Insight, InsightRoute
from tests.factories.insights import RoutingRuleFactory
from tests.insights.test_inbox import People, build_people


@pytest.fixture
def people(org: dict[str, Any], hr_user: User) -> People:
    return build_people(org, hr_user)


NEED = "Your hand-offs reach us without the customer's contract number; we call the customer back for it."


def test_a_raised_insight_reaches_the_chosen_group_from_the_raisers_group(people: People) -> None:
    insight = insight_raise(by=people.bea, to_unit=people.support, text=NEED)

    assert insight.channel == Channel.INTERNAL
    assert insight.customer_type == CustomerType.INTERNAL
    assert insight.from_unit == people.billing
    assert insight.raised_by == people.bea_employee
    assert insight.source_system == "portal"
    assert insight.text == NEED
    [route] = insight.routes.all()
    assert (route.unit, route.reason, route.status) == (people.support, RouteReason.EXPLICIT, InboxStatus.NEW)


def test_one_cannot_raise_an_insight_about_ones_own_group(people: People) -> None:
    with pytest.raises(ValidationError) as refused:
        insight_raise(by=people.bea, to_unit=people.billing, text=NEED)

    assert "to_unit" in refused.value.message_dict
    assert not Insight.objects.exists()


def test_a_raised_insight_needs_words(people: People) -> None:
    with pytest.raises(ValidationError) as refused:
        insight_raise(by=people.bea, to_unit=people.support, text="  meh ")

    assert "text" in refused.value.message_dict


def test_the_touchpoints_rules_route_it_too_but_never_back_to_the_raisers_group(
    people: People, org: dict[str, Any]
) -> None:
    RoutingRuleFactory(unit=org["onboarding"], touchpoint=org["chat"], journey_stage=None)
    RoutingRuleFactory(unit=people.billing, touchpoint=org["chat"], journey_stage=None)

    insight = insight_raise(by=people.bea, to_unit=people.support, text=NEED, touchpoint=org["chat"])

    reached = {route.unit: route.reason for route in insight.routes.all()}
    assert reached == {people.support: RouteReason.EXPLICIT, org["onboarding"]: RouteReason.TOUCHPOINT}


def test_a_login_without_an_employee_record_cannot_raise(people: People) -> None:
    with pytest.raises(PermissionDenied, match="employee record"):
        insight_raise(by=people.bare, to_unit=people.support, text=NEED)


def test_a_score_request_in_the_words_is_flagged(people: People) -> None:
    insight = insight_raise(
        by=people.bea, to_unit=people.support, text="Is there any reason you can't give us a 10 next time?"
    )

    assert insight.gaming_flags


# The API


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_raises_an_insight_and_says_where_it_went(people: People, org: dict[str, Any]) -> None:
    answer = api(people.bea).post(
        "/api/insights/raise/", {"to_unit": "support", "text": NEED, "touchpoint": "chat"}, format="json"
    )

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["source_system"] == "portal"
    assert [route["unit"] for route in body["routes"]] == ["support"]
    assert InsightRoute.objects.get(pk=body["routes"][0]["id"]).insight.touchpoint == org["chat"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to_unit": "billing", "text": NEED}, "to_unit"),
        ({"to_unit": "nowhere", "text": NEED}, "to_unit"),
        ({"to_unit": "support", "text": ""}, "text"),
        ({"text": NEED}, "to_unit"),
        ({"to_unit": "support", "text": NEED, "touchpoint": "nowhere"}, "touchpoint"),
    ],
)
def test_the_api_answers_400_with_the_field_in_error(people: People, body: dict[str, str], field: str) -> None:
    answer = api(people.bea).post("/api/insights/raise/", body, format="json")

    assert answer.status_code == 400
    assert field in answer.json()
    assert not Insight.objects.exists()
