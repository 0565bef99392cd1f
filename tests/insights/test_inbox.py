"""The unit's inbox: who sees it, its order and filters, and taking, releasing, closing and reopening an insight."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from apps.audit.models import AuditEvent
from apps.common.errors import InvalidTransition
from apps.insights.constants import Channel, InboxStatus, ScoreBand
from apps.insights.inbox import inbox_close_no_action, inbox_release, inbox_reopen, inbox_take
from apps.insights.models import InsightRoute
from apps.insights.selectors import inbox_list, inbox_route_get, inbox_units_for
from apps.org.models import Employee, OrgUnit
from tests.factories.insights import InsightFactory, InsightRouteFactory
from tests.factories.org import EmployeeFactory, UserFactory


@dataclass
class People:
    """Billing's people and their managers, someone in Support, HR, and a login without an employee record."""

    billing: OrgUnit
    support: OrgUnit
    bea: User  # in Billing
    bea_employee: Employee
    ben: User  # in Billing too
    lead: User  # manages Bea and Ben, sits in Support
    head: User  # manages the lead
    sam: User  # in Support, manages nobody in Billing
    hr: User
    bare: User


def person(username: str, full_name: str, unit: OrgUnit, manager: Employee | None = None) -> tuple[User, Employee]:
    user = UserFactory(username=username)
    employee = EmployeeFactory(user=user, full_name=full_name, org_unit=unit, manager=manager)
    return user, employee


def build_people(org: dict[str, Any], hr_user: User) -> People:
    """The cast, for this module's `people` fixture and the other inbox test modules' own."""
    billing, support = org["billing"], org["support"]
    head, head_employee = person("head", "Hugo Head", support)
    lead, lead_employee = person("lead", "Lena Lead", support, head_employee)
    bea, bea_employee = person("bea", "Bea Biller", billing, lead_employee)
    ben, _ = person("ben", "Ben Biller", billing, lead_employee)
    sam, _ = person("sam", "Sam Support", support)
    return People(
        billing=billing,
        support=support,
        bea=bea,
        bea_employee=bea_employee,
        ben=ben,
        lead=lead,
        head=head,
        sam=sam,
        hr=hr_user,
        bare=UserFactory(username="bare"),
    )


@pytest.fixture
def people(org: dict[str, Any], hr_user: User) -> People:
    return build_people(org, hr_user)


def routed(unit: OrgUnit, **insight_fields: Any) -> InsightRoute:
    """An insight in the unit's inbox."""
    return InsightRouteFactory(insight=InsightFactory(**insight_fields), unit=unit)


# Who sees which inbox


def test_members_read_their_units_inbox(people: People) -> None:
    route = routed(people.billing)

    assert list(inbox_units_for(people.bea)) == [people.billing]
    assert inbox_route_get(user=people.bea, pk=route.pk) == route


def test_managers_above_the_members_read_the_units_inbox(people: People) -> None:
    route = routed(people.billing)

    for manager in (people.lead, people.head):
        assert people.billing in inbox_units_for(manager)
        assert inbox_route_get(user=manager, pk=route.pk) == route


def test_hr_reads_every_inbox(people: People) -> None:
    billing_route, support_route = routed(people.billing), routed(people.support)

    assert inbox_route_get(user=people.hr, pk=billing_route.pk) == billing_route
    assert inbox_route_get(user=people.hr, pk=support_route.pk) == support_route


@pytest.mark.parametrize("who", ["sam", "bare"])
def test_anyone_else_gets_404_for_a_route_of_another_unit(people: People, who: str) -> None:
    route = routed(people.billing)

    with pytest.raises(Http404):
        inbox_route_get(user=getattr(people, who), pk=route.pk)
    assert people.billing not in inbox_units_for(getattr(people, who))


# Order and filters


def test_the_inbox_is_newest_first(people: People) -> None:
    today = dt.date.today()
    old = routed(people.billing, said_on=today - dt.timedelta(days=20))
    new = routed(people.billing, said_on=today - dt.timedelta(days=1))
    middle = routed(people.billing, said_on=today - dt.timedelta(days=5))
    routed(people.support)  # another unit's

    assert list(inbox_list(unit=people.billing)) == [new, middle, old]


def test_the_inbox_filters_by_status_channel_and_touchpoint(people: People, org: dict[str, Any]) -> None:
    survey_at_invoice = routed(people.billing, channel=Channel.SURVEY, touchpoint=org["invoice"])
    support_chat = routed(people.billing, channel=Channel.SUPPORT, touchpoint=org["chat"])
    support_chat.status = InboxStatus.IN_PROGRESS
    support_chat.save()

    assert list(inbox_list(unit=people.billing, status=InboxStatus.NEW)) == [survey_at_invoice]
    assert list(inbox_list(unit=people.billing, channel=Channel.SUPPORT)) == [support_chat]
    assert list(inbox_list(unit=people.billing, touchpoint=org["invoice"])) == [survey_at_invoice]


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (Decimal("0"), ScoreBand.LOW),
        (Decimal("6.5"), ScoreBand.LOW),
        (Decimal("7"), ScoreBand.MIDDLE),
        (Decimal("8.9"), ScoreBand.MIDDLE),
        (Decimal("9"), ScoreBand.HIGH),
        (Decimal("10"), ScoreBand.HIGH),
        (None, ScoreBand.NONE),
    ],
)
def test_each_score_falls_in_exactly_one_band(people: People, score: Decimal | None, band: str) -> None:
    route = routed(people.billing, score=score)

    matching = [each for each in ScoreBand if route in inbox_list(unit=people.billing, score_band=each)]

    assert matching == [band]


# Taking, releasing, closing, reopening


def test_taking_an_insight_shows_who_is_on_it(people: People) -> None:
    route = routed(people.billing)

    route = inbox_take(route=route, by=people.bea)

    route.refresh_from_db()
    assert route.status == InboxStatus.IN_PROGRESS
    assert route.taken_by == people.bea_employee
    assert route.taken_at is not None


def test_the_second_person_to_take_is_told_who_has_it(people: People) -> None:
    route = routed(people.billing)
    inbox_take(route=route, by=people.bea)

    with pytest.raises(InvalidTransition, match="Already taken by Bea Biller"):
        inbox_take(route=route, by=people.ben)


def test_someone_outside_the_unit_cannot_take_its_insight(people: People) -> None:
    route = routed(people.billing)

    with pytest.raises(PermissionDenied):
        inbox_take(route=route, by=people.sam)
    route.refresh_from_db()
    assert route.status == InboxStatus.NEW


def test_the_taker_releases_and_the_insight_is_new_again(people: People) -> None:
    route = inbox_take(route=routed(people.billing), by=people.bea)

    route = inbox_release(route=route, by=people.bea)

    route.refresh_from_db()
    assert (route.status, route.taken_by, route.taken_at) == (InboxStatus.NEW, None, None)


def test_a_colleague_cannot_release_what_another_took_but_their_manager_can(people: People) -> None:
    route = inbox_take(route=routed(people.billing), by=people.bea)

    with pytest.raises(PermissionDenied):
        inbox_release(route=route, by=people.ben)
    inbox_release(route=route, by=people.lead)

    route.refresh_from_db()
    assert route.status == InboxStatus.NEW


@pytest.mark.parametrize("reason", ["", "   ", "n/a", "not relevant"])
def test_no_action_needs_a_reason_of_a_few_words(people: People, reason: str) -> None:
    route = routed(people.billing)

    with pytest.raises(ValidationError) as refused:
        inbox_close_no_action(route=route, by=people.bea, reason=reason)

    assert "reason" in refused.value.message_dict
    route.refresh_from_db()
    assert route.status == InboxStatus.NEW


def test_no_action_closes_the_insight_with_the_reason_on_the_record(people: People) -> None:
    route = routed(people.billing)
    reason = "The booking engine belongs to the vendor; we passed it on to them."

    inbox_close_no_action(route=route, by=people.bea, reason=reason)

    route.refresh_from_db()
    assert route.status == InboxStatus.NO_ACTION
    assert route.no_action_reason == reason
    assert route.closed_at is not None
    changes = AuditEvent.objects.filter(object_type="insights.insightroute", object_id=str(route.pk))
    assert any("no_action_reason" in event.changes for event in changes)


def test_a_manager_reopens_a_no_action_insight_but_a_member_cannot(people: People) -> None:
    route = routed(people.billing)
    inbox_close_no_action(route=route, by=people.bea, reason="Vendor issue, passed on to the vendor.")

    with pytest.raises(PermissionDenied):
        inbox_reopen(route=route, by=people.ben)
    inbox_reopen(route=route, by=people.head)

    route.refresh_from_db()
    assert (route.status, route.closed_at, route.no_action_reason) == (InboxStatus.NEW, None, "")


def test_hr_reopens_too(people: People) -> None:
    route = routed(people.billing)
    inbox_close_no_action(route=route, by=people.bea, reason="Vendor issue, passed on to the vendor.")

    inbox_reopen(route=route, by=people.hr)

    route.refresh_from_db()
    assert route.status == InboxStatus.NEW


def test_an_open_insight_cannot_be_reopened(people: People) -> None:
    with pytest.raises(InvalidTransition):
        inbox_reopen(route=routed(people.billing), by=people.lead)
