"""Factories for the insights app: an external customer's words at a touchpoint, routed to one unit."""

import datetime as dt

import factory

from apps.insights.constants import Channel, RouteReason
from apps.insights.models import Insight, InsightRoute, RoutingRule
from tests.factories.org import OrgUnitFactory, TouchpointFactory


class InsightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Insight

    source_system = "survey-tool"
    source_id = factory.Sequence(lambda n: f"RESP-{10000 + n}")
    text = "The invoice listed a room I never booked, and nobody answered my e-mail for a week."
    score = 3
    channel = Channel.SURVEY
    said_on = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=3))


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    unit = factory.SubFactory(OrgUnitFactory)
    touchpoint = factory.SubFactory(TouchpointFactory)


class InsightRouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InsightRoute

    insight = factory.SubFactory(InsightFactory)
    unit = factory.SubFactory(OrgUnitFactory)
    reason = RouteReason.EXPLICIT
    said_on = factory.SelfAttribute("insight.said_on")
