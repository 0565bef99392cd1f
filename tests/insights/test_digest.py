"""The weekly customer-insight digest: once per unit and ISO week, to the unit's managers and the members who asked
for it, in their sending hours, naming the newest insights with links to the inbox; nothing when there is nothing
to say."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings as project_settings
from django.core import mail

from apps.insights.constants import InboxStatus
from apps.insights.digest import insights_digest_plan
from apps.insights.models import InsightRoute
from apps.insights.tasks import plan_digests
from apps.reminders.constants import ReminderKind
from apps.reminders.models import Reminder
from apps.reminders.services import digest_preference_set, reminder_send
from tests.factories.insights import InsightFactory, InsightRouteFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory

UTC = dt.UTC
MONDAY = dt.datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # ISO week 2026-W50, before anyone's sending hours


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def routed(unit: Any, *, days_ago: float, text: str, status: str = InboxStatus.NEW, **insight: Any) -> InsightRoute:
    """An insight routed to `unit` `days_ago` days before Monday."""
    when = MONDAY - dt.timedelta(days=days_ago)
    route = InsightRouteFactory(
        unit=unit, insight=InsightFactory(text=text, said_on=when.date(), **insight), status=status
    )
    InsightRoute.objects.filter(pk=route.pk).audited_update(routed_at=when)
    return route


@pytest.fixture
def units(db: Any, clock: Any, settings: Any) -> dict[str, Any]:
    """Billing: Ann (opted in) and Bob (not), managed by Mia from Management; Legal has no insight; Archive only an
    insight answered weeks ago."""
    settings.SITE_URL = "https://rc.example.com"
    settings.REMINDERS_SEND_START_HOUR = 9
    settings.REMINDERS_SEND_END_HOUR = 18
    settings.REMINDERS_DIGEST_WEEKDAY = 0
    management = OrgUnitFactory(name="Management", code="management")
    billing = OrgUnitFactory(name="Billing", code="billing-d", customer_layer=1)
    legal = OrgUnitFactory(name="Legal", code="legal-d", customer_layer=2)
    archive = OrgUnitFactory(name="Archive", code="archive-d", customer_layer=2)
    mia = EmployeeFactory(org_unit=management, full_name="Mia Manager", timezone="Europe/Paris")
    ann = EmployeeFactory(org_unit=billing, manager=mia, full_name="Ann Member", timezone="America/New_York")
    bob = EmployeeFactory(org_unit=billing, manager=mia, full_name="Bob Member")
    EmployeeFactory(org_unit=legal, manager=mia, full_name="Lee Legal")
    EmployeeFactory(org_unit=archive, manager=mia, full_name="Art Archive")
    digest_preference_set(employee=ann, weekly_digest=True, note="Asked in the team meeting.")
    routed(billing, days_ago=2, text="The invoice listed a room I never booked.")
    routed(billing, days_ago=4, text="", score=2)
    routed(billing, days_ago=20, text="Nobody answered my e-mail about the refund.", status=InboxStatus.IN_PROGRESS)
    routed(billing, days_ago=30, text="Thanks for the quick fix.", status=InboxStatus.RESPONDED)
    routed(archive, days_ago=30, text="Old news, answered.", status=InboxStatus.RESPONDED)
    return {"billing": billing, "legal": legal, "archive": archive, "mia": mia, "ann": ann, "bob": bob}


def digests() -> list[Reminder]:
    return list(Reminder.objects.filter(kind=ReminderKind.INSIGHTS_DIGEST).order_by("recipient_name"))


def test_a_unit_gets_one_digest_per_recipient_and_week_even_when_the_planner_runs_twice(
    units: dict[str, Any], clock: Any
) -> None:
    assert insights_digest_plan() == 2
    clock.shift(dt.timedelta(hours=1))
    assert insights_digest_plan() == 0

    keys = [r.key for r in digests()]
    billing = units["billing"].pk
    assert keys == [
        f"insights_digest:unit-{billing}:employee-{units['ann'].pk}:2026-W50",
        f"insights_digest:unit-{billing}:employee-{units['mia'].pk}:2026-W50",
    ]


def test_next_week_brings_a_new_digest(units: dict[str, Any], clock: Any) -> None:
    insights_digest_plan()
    clock.shift(dt.timedelta(days=7))

    assert insights_digest_plan() == 2
    assert {r.occasion for r in digests()} == {"2026-W50", "2026-W51"}


def test_the_manager_gets_it_and_only_members_who_opted_in_do(units: dict[str, Any]) -> None:
    insights_digest_plan()

    recipients = {r.recipient_employee_id for r in digests()}
    assert recipients == {units["mia"].pk, units["ann"].pk}
    assert units["bob"].pk not in recipients


def test_a_unit_led_from_inside_is_told_through_its_head_not_the_heads_manager(units: dict[str, Any]) -> None:
    support = OrgUnitFactory(name="Support", code="support-d")
    head = EmployeeFactory(org_unit=support, manager=units["mia"], full_name="Hal Head")
    EmployeeFactory(org_unit=support, manager=head, full_name="Sue Support")
    routed(support, days_ago=1, text="The chat bot sent me in circles.")

    insights_digest_plan()

    told = {r.recipient_employee_id for r in digests() if r.context["unit"] == "Support"}
    assert told == {head.pk}


def test_a_manager_who_turned_the_digest_off_gets_none(units: dict[str, Any]) -> None:
    digest_preference_set(employee=units["mia"], weekly_digest=False)

    insights_digest_plan()

    assert [r.recipient_employee_id for r in digests()] == [units["ann"].pk]


def test_units_with_nothing_new_and_nothing_open_get_no_digest(units: dict[str, Any]) -> None:
    insights_digest_plan()

    assert {r.context["unit"] for r in digests()} == {"Billing"}  # not Legal (nothing), not Archive (all answered)


def test_an_organisation_with_nothing_to_say_gets_no_digest(db: Any, clock: Any) -> None:
    assert insights_digest_plan() == 0


def test_nothing_is_planned_before_the_digest_weekday(units: dict[str, Any], settings: Any) -> None:
    settings.REMINDERS_DIGEST_WEEKDAY = 2  # Wednesday; it is Monday

    assert insights_digest_plan() == 0


def test_each_digest_waits_for_its_recipients_sending_hours(units: dict[str, Any]) -> None:
    insights_digest_plan()

    due = {r.recipient_employee_id: r.due_at for r in digests()}
    assert due[units["mia"].pk] == dt.datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    assert due[units["ann"].pk] == dt.datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 09:00 in New York


def test_the_digest_counts_new_and_open_insights_and_lists_the_newest(units: dict[str, Any]) -> None:
    insights_digest_plan()

    context = digests()[0].context
    assert (context["new_count"], context["open_count"]) == (2, 3)
    assert [item["text"] for item in context["insights"]] == [
        "The invoice listed a room I never booked.",
        "(a score of 2 without words)",
        "Nobody answered my e-mail about the refund.",
    ]


def test_the_email_names_the_insights_and_links_to_the_inbox(units: dict[str, Any], clock: Any) -> None:
    insights_digest_plan()
    mias = next(r for r in digests() if r.recipient_employee_id == units["mia"].pk)
    clock.move_to(dt.datetime(2026, 12, 7, 8, 0, tzinfo=UTC))

    assert reminder_send(reminder_id=mias.pk) == "sent"

    message = mail.outbox[-1]
    assert message.subject == "Billing this week: 2 new customer insights, 3 open"
    assert "“The invoice listed a room I never booked.”" in message.body
    inbox = f"https://rc.example.com/me/inbox/?unit={units['billing'].pk}"
    assert inbox in message.body and inbox in message.alternatives[0][0]
    route = InsightRoute.objects.get(insight__text="The invoice listed a room I never booked.")
    assert f"https://rc.example.com/me/inbox/{route.pk}/" in message.body
    assert "as a manager of people in Billing" in message.body


def test_planning_takes_a_fixed_number_of_queries(units: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    for n in range(10):
        unit = OrgUnitFactory()
        EmployeeFactory(org_unit=unit, manager=units["mia"])
        routed(unit, days_ago=1, text=f"Insight {n}")
    with django_assert_max_num_queries(14):
        assert insights_digest_plan() == 12


def test_beat_runs_the_planner_task(units: dict[str, Any]) -> None:
    entry = project_settings.CELERY_BEAT_SCHEDULE["insights-plan-digests"]

    assert entry["task"] == plan_digests.name == "insights.plan_digests"
    assert plan_digests() == 2
