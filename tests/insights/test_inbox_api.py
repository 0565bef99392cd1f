"""The inbox API: list a unit's inbox with filters, read one insight, take, release, close, reopen and respond."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from apps.evidence.models import Evidence
from apps.insights.constants import Channel, InboxStatus
from apps.insights.models import InsightRoute
from tests.insights.test_inbox import People, build_people, routed


@pytest.fixture
def people(org: dict[str, Any], hr_user: User) -> People:
    return build_people(org, hr_user)


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_member_lists_their_units_inbox_newest_first(people: People) -> None:
    routes = [routed(people.billing) for _ in range(3)]
    routed(people.support)

    answer = api(people.bea).get("/api/insights/inbox/")

    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == [route.pk for route in sorted(routes, key=lambda r: -r.pk)]
    assert body["results"][0]["insight"]["text"].startswith("The invoice listed")
    assert body["results"][0]["unit"]["code"] == "billing"


def test_a_manager_picks_the_unit(people: People) -> None:
    route = routed(people.billing)

    answer = api(people.head).get("/api/insights/inbox/", {"unit": people.billing.pk})

    assert [row["id"] for row in answer.json()["results"]] == [route.pk]


def test_the_inbox_filters_by_channel_status_touchpoint_and_score_band(people: People, org: dict[str, Any]) -> None:
    low_survey = routed(people.billing, channel=Channel.SURVEY, score=3, touchpoint=org["invoice"])
    high_chat = routed(people.billing, channel=Channel.SUPPORT, score=10, touchpoint=org["chat"])
    client = api(people.bea)

    def ids(**params: Any) -> list[int]:
        return [row["id"] for row in client.get("/api/insights/inbox/", params).json()["results"]]

    assert ids(channel="support") == [high_chat.pk]
    assert ids(score_band="low") == [low_survey.pk]
    assert ids(score_band="high") == [high_chat.pk]
    assert ids(touchpoint="invoice") == [low_survey.pk]
    assert ids(status="responded") == []


def test_the_inbox_walks_by_cursor_too(people: People) -> None:
    for _ in range(3):
        routed(people.billing)

    answer = api(people.bea).get("/api/insights/inbox/", {"cursor": "", "page_size": 2})

    body = answer.json()
    assert len(body["results"]) == 2
    assert body["next"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "lost"}, "status"), ({"score_band": "great"}, "score_band"), ({"unit": "x"}, "unit")],
)
def test_a_bad_filter_is_a_400_naming_it(people: People, params: dict[str, str], field: str) -> None:
    answer = api(people.bea).get("/api/insights/inbox/", params)

    assert answer.status_code == 400
    assert field in answer.json()


def test_another_units_inbox_and_insights_are_404(people: People) -> None:
    route = routed(people.billing)
    client = api(people.sam)

    assert client.get("/api/insights/inbox/", {"unit": people.billing.pk}).status_code == 404
    assert client.get(f"/api/insights/routes/{route.pk}/").status_code == 404
    assert client.post(f"/api/insights/routes/{route.pk}/take/").status_code == 404


def test_an_anonymous_caller_is_refused(people: People) -> None:
    assert APIClient().get("/api/insights/inbox/").status_code in {401, 403}


def test_take_then_a_second_taker_gets_409_with_who_has_it(people: People) -> None:
    route = routed(people.billing)

    first = api(people.bea).post(f"/api/insights/routes/{route.pk}/take/")
    second = api(people.ben).post(f"/api/insights/routes/{route.pk}/take/")

    assert first.status_code == 200
    assert first.json()["status"] == InboxStatus.IN_PROGRESS
    assert first.json()["taken_by"]["name"] == "Bea Biller"
    assert second.status_code == 409
    assert second.json()["detail"] == "Already taken by Bea Biller."


def test_release_gives_it_back(people: People) -> None:
    route = routed(people.billing)
    client = api(people.bea)
    client.post(f"/api/insights/routes/{route.pk}/take/")

    answer = client.post(f"/api/insights/routes/{route.pk}/release/")

    assert answer.json()["status"] == InboxStatus.NEW


def test_no_action_without_a_reason_is_a_400_on_the_reason(people: People) -> None:
    route = routed(people.billing)

    answer = api(people.bea).post(f"/api/insights/routes/{route.pk}/no-action/", {"reason": "no"}, format="json")

    assert answer.status_code == 400
    assert "reason" in answer.json()
    route.refresh_from_db()
    assert route.status == InboxStatus.NEW


def test_no_action_then_reopen_by_a_manager(people: People) -> None:
    route = routed(people.billing)
    reason = "The vendor owns the booking engine; passed on."

    closed = api(people.bea).post(f"/api/insights/routes/{route.pk}/no-action/", {"reason": reason}, format="json")
    refused = api(people.ben).post(f"/api/insights/routes/{route.pk}/reopen/")
    reopened = api(people.lead).post(f"/api/insights/routes/{route.pk}/reopen/")

    assert (closed.status_code, closed.json()["no_action_reason"]) == (200, reason)
    assert refused.status_code == 403
    assert (reopened.status_code, reopened.json()["status"]) == (200, InboxStatus.NEW)


def test_respond_answers_201_with_the_draft_and_where_to_complete_it(people: People) -> None:
    route = routed(people.billing)

    answer = api(people.bea).post(f"/api/insights/routes/{route.pk}/respond/")

    assert answer.status_code == 201
    body = answer.json()
    evidence = Evidence.objects.get(pk=body["evidence"])
    assert evidence.responds_to_id == route.pk
    assert body["url"].endswith(f"/api/evidence/{evidence.pk}/")
    assert body["edit_url"].endswith(f"/me/evidence/{evidence.pk}/edit/")
    assert body["route"]["status"] == InboxStatus.IN_PROGRESS


def test_the_detail_lists_the_responses_the_caller_may_see(people: People) -> None:
    route = routed(people.billing)
    evidence = api(people.bea).post(f"/api/insights/routes/{route.pk}/respond/").json()["evidence"]

    mine = api(people.bea).get(f"/api/insights/routes/{route.pk}/").json()
    colleagues = api(people.ben).get(f"/api/insights/routes/{route.pk}/").json()

    assert [item["id"] for item in mine["responses"]] == [evidence]
    assert colleagues["responses"] == []  # a draft is its owner's until submitted


def test_list_queries_do_not_grow_with_the_rows(people: People, django_assert_max_num_queries: Any) -> None:
    for _ in range(30):
        routed(people.billing)
    client = api(people.bea)
    client.get("/api/insights/inbox/")  # warm the session and the content types

    with django_assert_max_num_queries(8):
        answer = client.get("/api/insights/inbox/")

    assert len(answer.json()["results"]) == 30
    assert InsightRoute.objects.count() == 30
