"""Responding to an insight with evidence: the draft carries the customer's words and is linked to the insight; only
a verified response marks the insight responded, and only the first one sets when."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from rest_framework.test import APIClient

from apps.common.errors import InvalidTransition
from apps.evidence.constants import CustomerType, EvidenceStatus, SourceType
from apps.evidence.models import Evidence
from apps.evidence.services import (
    evidence_correct,
    evidence_reject,
    evidence_request_changes,
    evidence_revoke,
    evidence_submit,
    evidence_update,
    evidence_verify,
)
from apps.insights.constants import Channel, InboxStatus
from apps.insights.inbox import inbox_close_no_action, inbox_respond, inbox_take
from apps.insights.models import InsightRoute
from tests.factories.evidence import EvidenceFactory
from tests.factories.insights import InsightFactory, InsightRouteFactory
from tests.insights.test_inbox import People, build_people, routed


@pytest.fixture
def people(org: dict[str, Any], hr_user: User) -> People:
    return build_people(org, hr_user)


WORDS = "The invoice listed a room I never booked, and nobody answered my e-mail for a week."
STORY = {"interpretation": "Guests could not trust our invoices.", "response": "Fixed the invoice template."}


def respond_and_submit(route: InsightRoute, by: User) -> Evidence:
    """A member responds and completes and submits the draft."""
    evidence = inbox_respond(route=route, by=by)
    evidence = evidence_update(evidence=evidence, by=by, data=STORY)
    return evidence_submit(evidence=evidence, by=by)


def verify(evidence: Evidence, by: User) -> Evidence:
    return evidence_verify(evidence=evidence, by=by, acknowledge_flags=True)


def test_respond_starts_a_draft_with_the_customers_words_linked_to_the_insight(
    people: People, org: dict[str, Any]
) -> None:
    route = routed(
        people.billing,
        text=WORDS,
        channel=Channel.SURVEY,
        touchpoint=org["invoice"],
        source_system="qualtrics",
        source_id="R-77",
    )

    evidence = inbox_respond(route=route, by=people.bea)

    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.DRAFT
    assert evidence.owner == people.bea_employee
    assert evidence.responds_to == route
    assert evidence.customer_quote == WORDS
    assert evidence.source_type == SourceType.SURVEY_VERBATIM
    assert evidence.source_reference == "qualtrics:R-77"
    assert evidence.touchpoint == org["invoice"]
    assert evidence.customer_type == CustomerType.EXTERNAL
    assert evidence.impact_date == timezone.localdate()
    assert evidence.category.code == "customer_story"
    assert evidence.title.startswith("Response to: The invoice listed a room")


@pytest.mark.parametrize(
    ("channel", "source_type"),
    [
        (Channel.SUPPORT, SourceType.SUPPORT_TICKET),
        (Channel.SALES, SourceType.SALES_CALL),
        (Channel.SOCIAL, SourceType.SOCIAL),
        (Channel.INTERVIEW, SourceType.INTERVIEW),
        (Channel.REVIEW, SourceType.OTHER),
        (Channel.OTHER, SourceType.OTHER),
    ],
)
def test_the_channel_becomes_where_the_customer_was_heard(people: People, channel: str, source_type: str) -> None:
    evidence = inbox_respond(route=routed(people.billing, channel=channel), by=people.bea)

    assert evidence.source_type == source_type


def test_an_internal_customers_insight_becomes_evidence_for_that_group(people: People) -> None:
    route = routed(people.billing, channel=Channel.INTERNAL, customer_type="internal", from_unit=people.support)

    evidence = inbox_respond(route=route, by=people.bea)

    assert (evidence.customer_type, evidence.internal_customer_unit) == (CustomerType.INTERNAL, people.support)


def test_a_score_only_insight_is_answered_as_outcome_data_not_an_operational_kpi(people: People) -> None:
    route = routed(people.billing, text="", score=2)

    evidence = inbox_respond(route=route, by=people.bea)

    assert evidence.customer_quote == ""
    assert "score of 2" in evidence.title
    assert evidence.category.is_outcome  # outcome caps of the policies apply to it


def test_an_insight_with_words_is_answered_as_a_customer_story(people: People) -> None:
    evidence = inbox_respond(route=routed(people.billing, score=2), by=people.bea)

    assert evidence.category.code == "customer_story"
    assert not evidence.category.is_outcome


def test_responding_puts_the_responder_on_it(people: People) -> None:
    route = routed(people.billing)

    inbox_respond(route=route, by=people.bea)

    route.refresh_from_db()
    assert (route.status, route.taken_by) == (InboxStatus.IN_PROGRESS, people.bea_employee)


def test_nobody_responds_to_an_insight_someone_else_is_on(people: People) -> None:
    route = inbox_take(route=routed(people.billing), by=people.bea)

    with pytest.raises(InvalidTransition, match="Already taken by Bea Biller"):
        inbox_respond(route=route, by=people.ben)
    assert not Evidence.objects.exists()


def test_someone_outside_the_unit_cannot_respond(people: People) -> None:
    with pytest.raises(PermissionDenied):
        inbox_respond(route=routed(people.billing), by=people.sam)
    assert not Evidence.objects.exists()


def test_a_closed_insight_cannot_be_responded_to(people: People) -> None:
    route = routed(people.billing)
    inbox_close_no_action(route=route, by=people.bea, reason="The vendor owns it; passed on to them.")

    with pytest.raises(InvalidTransition):
        inbox_respond(route=route, by=people.bea)


def test_a_verified_response_marks_the_insight_responded_at_the_verification(people: People) -> None:
    route = routed(people.billing)
    evidence = respond_and_submit(route, people.bea)

    verified = verify(evidence, people.lead)

    route.refresh_from_db()
    assert route.status == InboxStatus.RESPONDED
    assert route.responded_at == verified.reviewed_at
    assert route.closed_at is not None


def test_a_draft_or_submitted_response_changes_nothing(people: People) -> None:
    route = routed(people.billing)

    respond_and_submit(route, people.bea)

    route.refresh_from_db()
    assert (route.status, route.responded_at) == (InboxStatus.IN_PROGRESS, None)


@pytest.mark.parametrize("decision", ["reject", "request_changes"])
def test_a_rejected_response_or_one_sent_back_does_not_mark_it_responded(people: People, decision: str) -> None:
    route = routed(people.billing)
    evidence = respond_and_submit(route, people.bea)
    comment = "This does not say what changed for the guest."

    if decision == "reject":
        evidence_reject(evidence=evidence, by=people.lead, comment=comment)
    else:
        evidence_request_changes(evidence=evidence, by=people.lead, comment=comment)

    route.refresh_from_db()
    assert (route.status, route.responded_at) == (InboxStatus.IN_PROGRESS, None)


def test_a_second_verified_response_does_not_move_when_it_was_responded(people: People) -> None:
    route = routed(people.billing)
    first = respond_and_submit(route, people.bea)
    verify(first, people.lead)
    route.refresh_from_db()
    responded_at = route.responded_at
    # A colleague's later evidence answering the same insight.
    second = evidence_submit(evidence=EvidenceFactory(owner=people.ben.employee, responds_to=route), by=people.ben)

    verify(second, people.lead)

    route.refresh_from_db()
    assert route.status == InboxStatus.RESPONDED
    assert route.responded_at == responded_at


def test_a_correction_keeps_the_link_and_its_verification_changes_nothing(people: People) -> None:
    route = routed(people.billing)
    original = verify(respond_and_submit(route, people.bea), people.lead)
    route.refresh_from_db()
    responded_at = route.responded_at

    correction = evidence_correct(evidence=original, by=people.bea)
    assert correction.responds_to_id == route.pk
    evidence_submit(evidence=correction, by=people.bea)
    verify(correction, people.lead)

    route.refresh_from_db()
    assert route.responded_at == responded_at
    assert set(route.responses.values_list("pk", flat=True)) == {original.pk, correction.pk}


def test_the_evidence_api_shows_which_insight_an_item_responds_to(people: People) -> None:
    route = routed(people.billing)
    evidence = inbox_respond(route=route, by=people.bea)
    client = APIClient()
    client.force_authenticate(people.bea)

    answer = client.get(f"/api/evidence/{evidence.pk}/")

    assert answer.status_code == 200
    assert answer.json()["responds_to"] == route.pk


def test_the_responds_to_link_cannot_be_written_through_the_evidence_api(people: People) -> None:
    evidence = inbox_respond(route=routed(people.billing), by=people.bea)
    other = InsightRouteFactory(insight=InsightFactory(), unit=people.billing)
    client = APIClient()
    client.force_authenticate(people.bea)

    client.patch(f"/api/evidence/{evidence.pk}/", {"responds_to": other.pk}, format="json")

    evidence.refresh_from_db()
    assert evidence.responds_to_id != other.pk


def test_the_response_is_dated_today_even_for_an_old_insight(people: People) -> None:
    route = routed(people.billing, said_on=dt.date.today() - dt.timedelta(days=200))

    evidence = inbox_respond(route=route, by=people.bea)

    assert evidence.impact_date == timezone.localdate()


def test_revoking_the_only_verified_response_takes_the_answer_back(people: People) -> None:
    route = routed(people.billing)
    response = verify(respond_and_submit(route, people.bea), people.lead)

    evidence_revoke(evidence=response, by=people.hr, comment="The guest never said this; gaming found later.")

    route.refresh_from_db()
    assert (route.status, route.responded_at, route.closed_at) == (InboxStatus.IN_PROGRESS, None, None)
    assert route.taken_by == people.bea.employee


def test_revoking_one_of_two_verified_responses_keeps_the_insight_responded(people: People) -> None:
    route = routed(people.billing)
    first = verify(respond_and_submit(route, people.bea), people.lead)
    second = evidence_submit(evidence=EvidenceFactory(owner=people.ben.employee, responds_to=route), by=people.ben)
    verify(second, people.lead)
    route.refresh_from_db()
    responded_at = route.responded_at

    evidence_revoke(evidence=first, by=people.hr, comment="The guest never said this; gaming found later.")

    route.refresh_from_db()
    assert (route.status, route.responded_at) == (InboxStatus.RESPONDED, responded_at)
