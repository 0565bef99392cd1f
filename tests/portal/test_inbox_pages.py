"""The inbox pages: the unit's inbox with filters and pages, one insight and its buttons, no action with a
confirmation, "Tell another group", and the link between an insight and the evidence that responds to it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from apps.common.roles import Role, ensure_role_groups
from apps.evidence.models import Evidence
from apps.insights.constants import Channel, InboxStatus
from apps.insights.inbox import inbox_respond, inbox_take
from apps.insights.models import Insight, InsightRoute
from apps.org.models import OrgUnit, Touchpoint
from tests.factories.evidence import EvidenceFactory
from tests.factories.insights import InsightFactory, InsightRouteFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, TouchpointFactory, UserFactory
from tests.portal.helpers import field_error, page_text


@dataclass
class Team:
    billing: OrgUnit
    support: OrgUnit
    invoice: Touchpoint
    bea: User
    ben: User
    lead: User
    sam: User
    hr: User


@pytest.fixture
def team(db: Any) -> Team:
    billing = OrgUnitFactory(name="Billing", code="billing")
    support = OrgUnitFactory(name="Support", code="support")
    lead = UserFactory(username="lead")
    lead_employee = EmployeeFactory(user=lead, full_name="Lena Lead", org_unit=support)
    bea, ben, sam = UserFactory(username="bea"), UserFactory(username="ben"), UserFactory(username="sam")
    EmployeeFactory(user=bea, full_name="Bea Biller", org_unit=billing, manager=lead_employee)
    EmployeeFactory(user=ben, full_name="Ben Biller", org_unit=billing, manager=lead_employee)
    EmployeeFactory(user=sam, full_name="Sam Support", org_unit=support)
    hr = UserFactory(username="hr")
    hr.groups.add(ensure_role_groups()[Role.HR])
    invoice = TouchpointFactory(name="Invoice", code="invoice")
    return Team(billing=billing, support=support, invoice=invoice, bea=bea, ben=ben, lead=lead, sam=sam, hr=hr)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def routed(unit: OrgUnit, **fields: Any) -> InsightRoute:
    return InsightRouteFactory(insight=InsightFactory(**fields), unit=unit)


# The inbox


def test_the_empty_inbox_says_what_to_do(team: Team) -> None:
    answer = signed_in(team.bea).get("/me/inbox/")

    text = page_text(answer)
    assert "Inbox of Billing" in text
    assert "Nothing from your customers yet" in text
    assert "tell another group" in text


def test_the_inbox_lists_the_units_insights_with_their_status(team: Team) -> None:
    routed(team.billing, text="The invoice listed a room I never booked.")
    taken = routed(team.billing, text="Nobody answered my e-mail for a week.")
    inbox_take(route=taken, by=team.ben)
    routed(team.support, text="Support's own insight.")

    text = page_text(signed_in(team.bea).get("/me/inbox/"))

    assert "The invoice listed a room I never booked." in text
    assert "Being handled" in text and "Ben Biller" in text
    assert "Support's own insight." not in text


def test_the_nav_links_to_the_inbox(team: Team) -> None:
    answer = signed_in(team.bea).get("/me/inbox/")

    assert 'href="/me/inbox/" aria-current="page">Inbox</a>' in answer.content.decode()


@pytest.mark.parametrize("count", [5, 50])
def test_the_inbox_page_costs_the_same_queries_whatever_its_length(
    team: Team, count: int, django_assert_max_num_queries: Any
) -> None:
    for _ in range(count):
        routed(team.billing, touchpoint=team.invoice)
    client = signed_in(team.lead)

    with django_assert_max_num_queries(12):
        answer = client.get("/me/inbox/", {"unit": team.billing.pk})

    assert answer.status_code == 200
    assert answer.content.decode().count('href="/me/inbox/') >= min(count, 25)


def test_the_inbox_shows_25_a_page(team: Team) -> None:
    for _ in range(30):
        routed(team.billing)

    text = page_text(signed_in(team.bea).get("/me/inbox/"))

    assert "Page 1 of 2 · 30 items" in text


def test_filters_narrow_the_inbox_and_offer_to_clear(team: Team) -> None:
    routed(team.billing, text="A survey answer about the invoice.", channel=Channel.SURVEY, score=2)
    routed(team.billing, text="A support chat about a refund.", channel=Channel.SUPPORT, score=9)

    text = page_text(signed_in(team.bea).get("/me/inbox/", {"channel": "support", "score_band": "high"}))

    assert "A support chat about a refund." in text
    assert "A survey answer about the invoice." not in text
    assert "Clear filters" in text


def test_no_match_says_so(team: Team) -> None:
    routed(team.billing)

    text = page_text(signed_in(team.bea).get("/me/inbox/", {"status": "responded"}))

    assert "No insights match these filters" in text


def test_a_manager_picks_which_units_inbox(team: Team) -> None:
    routed(team.billing, text="Billing's customer speaks.")

    own = page_text(signed_in(team.lead).get("/me/inbox/"))
    billing = page_text(signed_in(team.lead).get("/me/inbox/", {"unit": team.billing.pk}))

    assert "Inbox of Support" in own and "Billing's customer speaks." not in own
    assert re.search(
        rf'<option value="{team.support.pk}" selected>Support</option>',
        signed_in(team.lead).get("/me/inbox/").content.decode(),
    )
    assert "Inbox of Billing" in billing and "Billing's customer speaks." in billing


def test_another_units_inbox_is_404(team: Team) -> None:
    assert signed_in(team.sam).get("/me/inbox/", {"unit": team.billing.pk}).status_code == 404


def test_hr_reads_any_inbox(team: Team) -> None:
    routed(team.billing, text="Billing's customer speaks.")

    text = page_text(signed_in(team.hr).get("/me/inbox/", {"unit": team.billing.pk}))

    assert "Billing's customer speaks." in text


# One insight


def test_the_insight_page_shows_what_where_and_why(team: Team) -> None:
    route = routed(team.billing, text="The invoice listed a room I never booked.", score=3, touchpoint=team.invoice)

    text = page_text(signed_in(team.bea).get(f"/me/inbox/{route.pk}/"))

    for expected in ("The invoice listed a room I never booked.", "3 / 10", "Survey", "Invoice", "survey-tool",
                     "Sent to the unit by name", "Nobody yet", "No response yet", "Respond with evidence",
                     "I'm on it", "No action"):  # fmt: skip
        assert expected in text


def test_a_stranger_gets_404_for_the_insight_page(team: Team) -> None:
    route = routed(team.billing)

    assert signed_in(team.sam).get(f"/me/inbox/{route.pk}/").status_code == 404
    assert signed_in(team.sam).post(f"/me/inbox/{route.pk}/take/").status_code == 404


def test_im_on_it_then_a_colleague_is_told_who_has_it(team: Team) -> None:
    route = routed(team.billing)

    mine = signed_in(team.bea).post(f"/me/inbox/{route.pk}/take/", follow=True)
    theirs = signed_in(team.ben).post(f"/me/inbox/{route.pk}/take/", follow=True)

    assert "You are on it" in page_text(mine)
    assert "Already taken by Bea Biller." in page_text(theirs)
    assert "Release" in page_text(mine)


def test_release_from_the_page(team: Team) -> None:
    route = inbox_take(route=routed(team.billing), by=team.bea)

    answer = signed_in(team.bea).post(f"/me/inbox/{route.pk}/release/", follow=True)

    assert "Released" in page_text(answer)
    route.refresh_from_db()
    assert route.status == InboxStatus.NEW


def test_no_action_asks_for_a_reason_and_a_confirmation(team: Team) -> None:
    route = routed(team.billing)
    client = signed_in(team.bea)

    form = client.get(f"/me/inbox/{route.pk}/no-action/")
    refused = client.post(f"/me/inbox/{route.pk}/no-action/", {"reason": "no"})
    unconfirmed = client.post(f"/me/inbox/{route.pk}/no-action/", {"reason": "The vendor owns the booking engine."})

    assert "What happens" in page_text(form)
    assert refused.status_code == 400
    assert field_error(refused, "reason")
    assert field_error(unconfirmed, "confirm") == "Tick the box to confirm."
    route.refresh_from_db()
    assert route.status == InboxStatus.NEW


def test_no_action_closes_it_with_a_message(team: Team) -> None:
    route = routed(team.billing)
    reason = "The vendor owns the booking engine; passed on to them."

    answer = signed_in(team.bea).post(
        f"/me/inbox/{route.pk}/no-action/", {"reason": reason, "confirm": "on"}, follow=True
    )

    assert "Closed with no action" in page_text(answer)
    route.refresh_from_db()
    assert (route.status, route.no_action_reason) == (InboxStatus.NO_ACTION, reason)
    page = page_text(signed_in(team.lead).get(f"/me/inbox/{route.pk}/"))
    assert reason in page and "Reopen" in page


def test_a_manager_reopens_from_the_page(team: Team) -> None:
    route = routed(team.billing)
    signed_in(team.bea).post(
        f"/me/inbox/{route.pk}/no-action/", {"reason": "The vendor owns it, passed on.", "confirm": "on"}
    )

    answer = signed_in(team.lead).post(f"/me/inbox/{route.pk}/reopen/", follow=True)

    assert "Reopened" in page_text(answer)
    route.refresh_from_db()
    assert route.status == InboxStatus.NEW


def test_a_member_cannot_reopen(team: Team) -> None:
    route = routed(team.billing)
    signed_in(team.bea).post(
        f"/me/inbox/{route.pk}/no-action/", {"reason": "The vendor owns it, passed on.", "confirm": "on"}
    )

    assert signed_in(team.ben).post(f"/me/inbox/{route.pk}/reopen/").status_code == 403


# Responding, and the link both ways


def test_respond_opens_the_draft_with_the_customers_words(team: Team) -> None:
    route = routed(team.billing, text="The invoice listed a room I never booked.")

    answer = signed_in(team.bea).post(f"/me/inbox/{route.pk}/respond/", follow=True)

    evidence = Evidence.objects.get(responds_to=route)
    assert answer.redirect_chain[-1][0] == f"/me/evidence/{evidence.pk}/edit/"
    assert "A draft response was started" in page_text(answer)
    assert "The invoice listed a room I never booked." in answer.content.decode()


def test_the_evidence_page_links_back_to_the_insight_and_the_insight_to_the_evidence(team: Team) -> None:
    route = routed(team.billing, text="The invoice listed a room I never booked.")
    evidence = inbox_respond(route=route, by=team.bea)
    client = signed_in(team.bea)

    evidence_page = client.get(f"/evidence/{evidence.pk}/").content.decode()
    insight_page = client.get(f"/me/inbox/{route.pk}/").content.decode()

    assert f'href="/me/inbox/{route.pk}/"' in evidence_page
    assert "Responds to:" in page_text(client.get(f"/evidence/{evidence.pk}/"))
    assert f'href="/evidence/{evidence.pk}/"' in insight_page


# Tell another group


def test_tell_another_group_sends_an_insight_to_their_inbox(team: Team) -> None:
    client = signed_in(team.bea)

    form = client.get("/me/insights/raise/")
    answer = client.post(
        "/me/insights/raise/",
        {"to_unit": "Support (support)", "text": "Your hand-offs reach us without the contract number."},
        follow=True,
    )

    assert '<option value="Support (support)">' in form.content.decode()
    assert '<option value="Billing (billing)">' not in form.content.decode()  # not one's own group
    assert "Sent to the inbox of Support" in page_text(answer)
    insight = Insight.objects.get()
    assert (insight.from_unit, list(insight.units.all())) == (team.billing, [team.support])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"to_unit": "Billing (billing)", "text": "Our own group, which is not allowed."}, "to_unit"),
        ({"to_unit": "Nowhere", "text": "A group that does not exist."}, "to_unit"),
        ({"to_unit": "support", "text": "meh"}, "text"),
    ],
)
def test_tell_another_group_shows_errors_next_to_the_field(team: Team, data: dict[str, str], field: str) -> None:
    answer = signed_in(team.bea).post("/me/insights/raise/", data)

    assert answer.status_code == 400
    assert field_error(answer, field)
    assert not Insight.objects.exists()


@pytest.mark.parametrize("count", [5, 50])
def test_the_insight_page_costs_the_same_queries_whatever_its_responses(
    team: Team, count: int, django_assert_max_num_queries: Any
) -> None:
    route = routed(team.billing)
    bea = team.bea.employee
    for _ in range(count):
        EvidenceFactory(owner=bea, responds_to=route)
    client = signed_in(team.bea)

    with django_assert_max_num_queries(12):
        answer = client.get(f"/me/inbox/{route.pk}/")

    assert answer.content.decode().count('href="/evidence/') == count
