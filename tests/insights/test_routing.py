"""Routing: which units' inboxes an insight reaches, and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from apps.insights.constants import RouteReason
from apps.insights.models import Insight
from apps.insights.routing import RoutingFacts, RoutingTable, plan_routes
from apps.insights.services import insights_ingest
from tests.factories.insights import RoutingRuleFactory
from tests.factories.org import OrgUnitFactory, TouchpointFactory

from .conftest import row


def routed(org: dict[str, Any], source_user: Any, **fields: Any) -> dict[str, str]:
    """Ingest one row and return {unit code: reason} of its inbox rows."""
    insights_ingest(source_system="test", rows=[row(**fields)], by=source_user)
    insight = Insight.objects.get(source_system="test", source_id="R-1")
    return {route.unit.code: route.reason for route in insight.routes.select_related("unit")}


def test_touchpoint_rule_sends_the_insight_to_its_unit(org, source_user):
    RoutingRuleFactory(unit=org["support"], touchpoint=org["invoice"])
    assert routed(org, source_user) == {"support": RouteReason.TOUCHPOINT}


def test_journey_stage_rule_catches_every_touchpoint_of_the_stage(org, source_user):
    RoutingRuleFactory(unit=org["onboarding"], touchpoint=None, journey_stage=org["buy"])
    assert routed(org, source_user, touchpoint="checkout") == {"onboarding": RouteReason.JOURNEY_STAGE}


def test_journey_stage_rule_catches_an_insight_naming_the_stage_without_touchpoint(org, source_user):
    RoutingRuleFactory(unit=org["onboarding"], touchpoint=None, journey_stage=org["use"])
    assert routed(org, source_user, touchpoint="", journey_stage="use") == {"onboarding": RouteReason.JOURNEY_STAGE}


def test_explicit_unit_receives_the_insight_it_is_named_for(org, source_user):
    assert routed(org, source_user, touchpoint="chat", units=["support"]) == {"support": RouteReason.EXPLICIT}


def test_several_units_each_receive_it_once_with_the_first_reason(org, source_user):
    RoutingRuleFactory(unit=org["support"], touchpoint=org["invoice"])
    RoutingRuleFactory(unit=org["onboarding"], touchpoint=None, journey_stage=org["buy"])
    RoutingRuleFactory(unit=org["support"], touchpoint=None, journey_stage=org["buy"])
    assert routed(org, source_user, units=["onboarding"]) == {
        "onboarding": RouteReason.EXPLICIT,
        "support": RouteReason.TOUCHPOINT,
    }


def test_inactive_rule_routes_nothing(org, source_user):
    RoutingRuleFactory(unit=org["support"], touchpoint=org["chat"], active=False)
    assert routed(org, source_user, touchpoint="chat") == {}


def test_touchpoint_owner_receives_it_when_no_rule_matched(org, source_user):
    assert routed(org, source_user) == {"billing": RouteReason.TOUCHPOINT_OWNER}


def test_touchpoint_owner_is_not_added_when_a_rule_matched(org, source_user):
    RoutingRuleFactory(unit=org["support"], touchpoint=org["invoice"])
    assert "billing" not in routed(org, source_user)


def test_insight_reaching_no_unit_is_stored_unrouted(org, source_user):
    assert routed(org, source_user, touchpoint="checkout") == {}
    assert Insight.objects.filter(source_id="R-1", routes__isnull=True).exists()


def test_routing_table_is_pure_and_keeps_the_first_reason():
    table = RoutingTable.from_rules([(1, 10, 100, None), (2, 20, None, 7), (3, 10, None, 7)])
    targets = table.routes_for(RoutingFacts(touchpoint_id=100, touchpoint_stage_id=7, owner_unit_id=99))
    assert [(t.unit_id, t.reason, t.rule_id) for t in targets] == [
        (10, RouteReason.TOUCHPOINT, 1),
        (20, RouteReason.JOURNEY_STAGE, 2),
    ]


def test_named_stage_wins_over_the_touchpoints_stage_for_routing():
    table = RoutingTable.from_rules([(1, 10, None, 7), (2, 20, None, 8)])
    targets = table.routes_for(RoutingFacts(touchpoint_id=100, touchpoint_stage_id=7, journey_stage_id=8))
    assert [t.unit_id for t in targets] == [20]


def test_plan_routes_costs_the_same_queries_for_one_or_fifty_insights(db, django_assert_num_queries):
    units = OrgUnitFactory.create_batch(3)
    touchpoints = [TouchpointFactory(owner_unit=unit) for unit in units]
    for unit, touchpoint in zip(units, touchpoints, strict=True):
        RoutingRuleFactory(unit=unit, touchpoint=touchpoint)
    for size in (1, 50):
        insights = [
            Insight(pk=n + 1, source_id=str(n), said_on=dt.date(2026, 1, 1), touchpoint_id=touchpoints[n % 3].pk)
            for n in range(size)
        ]
        with django_assert_num_queries(3):  # the rules, the touchpoints, the units
            routes = plan_routes(insights)
        assert len(routes) == size


rule_rows = st.lists(
    st.tuples(st.integers(1, 5), st.one_of(st.none(), st.integers(100, 103)), st.one_of(st.none(), st.integers(7, 9))),
    max_size=12,
)


@given(
    rules=rule_rows,
    touchpoint=st.one_of(st.none(), st.integers(100, 103)),
    stage=st.one_of(st.none(), st.integers(7, 9)),
    owner=st.one_of(st.none(), st.integers(1, 5)),
    explicit=st.lists(st.integers(1, 5), max_size=3),
)
def test_routing_sends_each_unit_once_always_the_named_ones_and_the_owner_only_as_fallback(
    rules, touchpoint, stage, owner, explicit
):
    table = RoutingTable.from_rules(
        (rule_id, unit, tp, st_)
        for rule_id, (unit, tp, st_) in enumerate(rules, 1)
        if tp is not None or st_ is not None
    )
    facts = RoutingFacts(touchpoint_id=touchpoint, touchpoint_stage_id=stage, owner_unit_id=owner,
                         explicit_unit_ids=tuple(explicit))  # fmt: skip
    targets = table.routes_for(facts)
    units = [target.unit_id for target in targets]
    assert len(units) == len(set(units))
    assert set(explicit) <= set(units)
    matched = {
        unit for unit, tp, st_ in rules if (tp is not None and tp == touchpoint) or (st_ is not None and st_ == stage)
    }
    assert set(units) == (set(explicit) | matched or ({owner} if owner is not None else set()))
    owners = [target for target in targets if target.reason == RouteReason.TOUCHPOINT_OWNER]
    assert not owners or units == [owner]
