"""Two people press "I'm on it" at the same moment (PostgreSQL): the second waits for the first and is told who
has it, instead of silently taking it over."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from apps.common.errors import InvalidTransition
from apps.insights.constants import InboxStatus
from apps.insights.inbox import inbox_take
from tests.insights.test_inbox import People, build_people, routed


@pytest.fixture
def people(org: dict[str, Any], hr_user: User) -> People:
    return build_people(org, hr_user)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_second_of_two_racing_takers_is_told_who_has_it(people: People) -> None:
    route = routed(people.billing)
    first_taken = threading.Event()
    let_first_commit = threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                inbox_take(route=route, by=people.bea)
                first_taken.set()
                let_first_commit.wait(20)
        finally:
            connection.close()

    def second() -> None:
        try:
            first_taken.wait(20)
            inbox_take(route=route, by=people.ben)  # waits for the first one's row lock
            outcome["second"] = "took it"
        except InvalidTransition as exc:
            outcome["second"] = exc.message
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_taken.wait(20)
    time.sleep(0.5)  # the second is now blocked on the row, having read nothing yet
    let_first_commit.set()
    for thread in threads:
        thread.join(30)

    assert outcome["second"] == "Already taken by Bea Biller."
    route.refresh_from_db()
    assert (route.status, route.taken_by.full_name) == (InboxStatus.IN_PROGRESS, "Bea Biller")
