"""Big API lists answer keyset pages on request (`?cursor=`), while page numbers keep answering as documented."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.reminders.constants import ReminderStatus
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory
from tests.factories.reminders import ReminderFactory

pytestmark = pytest.mark.django_db

EVIDENCE = "/api/evidence/"
NOTIFICATIONS = "/api/notifications/"


@pytest.fixture
def owner():
    return EmployeeFactory(user=UserFactory(username="walker"))


@pytest.fixture
def items(owner):
    """Seven items over four impact dates: ties on the date that the cursor must not skip or repeat."""
    start = dt.date(2026, 3, 1)
    days = [0, 0, 1, 1, 1, 2, 3]
    return [EvidenceFactory(owner=owner, impact_date=start + dt.timedelta(days=day)) for day in days]


def client_of(owner) -> APIClient:
    client = APIClient()
    client.force_login(owner.user)
    return client


def walk(client: APIClient, url: str) -> list[list[int]]:
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        pages.append([item["id"] for item in response.json()["results"]])
        url = response.json()["next"]
    return pages


def test_cursor_pages_walk_the_whole_list_once_in_the_default_order(owner, items):
    client = client_of(owner)
    by_page_number = [item["id"] for item in client.get(EVIDENCE, {"page_size": "50"}).json()["results"]]

    pages = walk(client, f"{EVIDENCE}?cursor=&page_size=3")

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [pk for page in pages for pk in page] == by_page_number  # newest impact first, ties by id
    assert len(by_page_number) == len(items)


def test_a_cursor_answer_has_next_and_previous_links_but_no_count(owner, items):
    client = client_of(owner)
    first = client.get(EVIDENCE, {"cursor": "", "page_size": "3"}).json()
    second = client.get(first["next"]).json()

    assert "count" not in first and first["previous"] is None and "cursor=" in first["next"]
    assert [item["id"] for item in client.get(second["previous"]).json()["results"]] == [
        item["id"] for item in first["results"]
    ]


def test_page_numbers_answer_as_before(owner, items):
    answer = client_of(owner).get(EVIDENCE, {"page": "2", "page_size": "5"}).json()

    assert answer["count"] == 7 and len(answer["results"]) == 2 and answer["next"] is None
    assert "page_size=5" in answer["previous"]


def test_a_cursor_not_taken_from_a_link_is_a_400_naming_the_parameter(owner, items):
    response = client_of(owner).get(EVIDENCE, {"cursor": "not-a-cursor"})

    assert response.status_code == 400
    assert "cursor" in response.json()


@pytest.mark.parametrize("extra", [{"page": "2"}, {"ordering": "created_at"}])
def test_a_page_number_or_ordering_sent_with_a_cursor_is_ignored_for_the_cursor_order(owner, items, extra):
    client = client_of(owner)
    plain = client.get(EVIDENCE, {"cursor": "", "page_size": "3"}).json()
    mixed = client.get(EVIDENCE, {"cursor": "", "page_size": "3", **extra}).json()

    assert [row["id"] for row in mixed["results"]] == [row["id"] for row in plain["results"]]
    assert "count" not in mixed


def test_a_deep_cursor_page_costs_what_the_first_does(owner, items):
    client = client_of(owner)
    with CaptureQueriesContext(connection) as first:
        url = client.get(EVIDENCE, {"cursor": "", "page_size": "2"}).json()["next"]
    url = client.get(url).json()["next"]

    with CaptureQueriesContext(connection) as deep:
        response = client.get(url)

    assert response.status_code == 200 and len(response.json()["results"]) == 2
    assert len(deep) == len(first)
    # session, user, role groups, employee record, "manages anyone?", the page, files: no count
    assert len(deep) <= 7 and not any("COUNT(" in query["sql"] for query in deep.captured_queries)


def test_notifications_walk_by_cursor_newest_first_with_the_unread_count(owner):
    reminders = [ReminderFactory(recipient_employee=owner, status=ReminderStatus.SENT) for _ in range(5)]
    client = client_of(owner)

    pages = walk(client, f"{NOTIFICATIONS}?cursor=&page_size=2")
    first = client.get(NOTIFICATIONS, {"cursor": "", "page_size": "2"}).json()

    assert [pk for page in pages for pk in page] == sorted((r.pk for r in reminders), reverse=True)
    assert "unread" in first and "count" not in first
