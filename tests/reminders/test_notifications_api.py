"""The notifications API: your own notifications only, newest first, with the unread count; marking them read."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.reminders.constants import ReminderKind, ReminderStatus
from apps.reminders.models import Reminder
from tests.factories.org import EmployeeFactory, UserFactory
from tests.factories.reminders import ReminderFactory

pytestmark = pytest.mark.django_db

LIST = "/api/notifications/"
READ = "/api/notifications/read/"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def dana(db):
    return EmployeeFactory(full_name="Dana Okafor", user=UserFactory(username="dana"))


@pytest.fixture
def sam(db):
    return EmployeeFactory(full_name="Sam Rivera", user=UserFactory(username="sam"))


def notify(employee, minutes_ago=0, **fields):
    return ReminderFactory(
        recipient_employee=employee, created_at=timezone.now() - dt.timedelta(minutes=minutes_ago), **fields
    )


def test_you_see_your_own_notifications_newest_first_with_the_unread_count(dana, sam):
    old = notify(dana, minutes_ago=30, read_at=timezone.now())
    new = notify(
        dana,
        minutes_ago=1,
        kind=ReminderKind.CASE_DECIDED,
        context={"own_case": True, "cycle": "Promotions 2026", "status_label": "Approved", "subject": "Dana"},
    )
    to_login = ReminderFactory(
        recipient_employee=None,
        recipient_user=dana.user,
        to_email="dana@example.com",
        recipient_name="Dana",
        recipient_timezone="UTC",
    )
    notify(sam)
    notify(dana, status=ReminderStatus.CANCELLED)

    response = client_for(dana.user).get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [to_login.pk, new.pk, old.pk]
    assert body["count"] == 3
    assert body["unread"] == 2
    assert response["X-Unread-Count"] == "2"
    row = body["results"][1]
    assert row["title"] == "Your case in Promotions 2026 was approved"
    assert row["kind"] == "case_decided" and row["status"] == "pending" and row["read_at"] is None
    assert set(row) == {"id", "kind", "title", "reason", "link", "created_at", "due_at", "status", "read_at"}


def test_listing_does_not_mark_anything_read(dana):
    notify(dana)

    client_for(dana.user).get(LIST)

    assert Reminder.objects.get().read_at is None


def test_a_notification_about_a_case_links_to_the_case(dana):
    from tests.factories.cases import CandidateCaseFactory

    case = CandidateCaseFactory()
    notify(dana, kind=ReminderKind.STEP_WAITING, case=case, context={})

    [row] = client_for(dana.user).get(LIST).json()["results"]

    assert row["link"] == f"/cases/{case.pk}/"


def test_mark_some_read_by_id_and_other_peoples_are_left_alone(dana, sam):
    mine, also_mine = notify(dana), notify(dana)
    theirs = notify(sam)

    response = client_for(dana.user).post(READ, {"ids": [mine.pk, theirs.pk]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 1}
    assert response["X-Unread-Count"] == "1"
    mine.refresh_from_db(), also_mine.refresh_from_db(), theirs.refresh_from_db()
    assert mine.read_at is not None
    assert also_mine.read_at is None and theirs.read_at is None


def test_mark_all_read_touches_only_your_own(dana, sam):
    notify(dana), notify(dana)
    theirs = notify(sam)

    response = client_for(dana.user).post(READ, {"all": True}, format="json")

    assert response.json() == {"marked": 2, "unread": 0}
    assert not Reminder.objects.filter(recipient_employee=dana, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client_for(dana.user).get(LIST).json()["unread"] == 0


def test_marking_again_marks_nothing(dana):
    done = notify(dana, read_at=timezone.now())

    response = client_for(dana.user).post(READ, {"ids": [done.pk]}, format="json")

    assert response.json() == {"marked": 0, "unread": 0}


def test_neither_ids_nor_all_is_a_field_error_and_nothing_is_marked(dana):
    notify(dana)
    client = client_for(dana.user)

    empty = client.post(READ, {}, format="json")
    bad = client.post(READ, {"ids": ["first"]}, format="json")

    assert empty.status_code == 400
    assert empty.json() == {"ids": ['Name the notifications to mark read, or send "all": true.']}
    assert bad.status_code == 400 and "ids" in bad.json()
    assert Reminder.objects.get().read_at is None


def test_anonymous_callers_get_401(dana):
    assert APIClient().get(LIST).status_code == 401
    assert APIClient().post(READ, {"all": True}, format="json").status_code == 401


def test_a_login_without_an_employee_record_gets_an_empty_list(db):
    body = client_for(UserFactory(username="hr")).get(LIST).json()

    assert body["results"] == [] and body["count"] == 0 and body["unread"] == 0


def test_the_list_costs_a_fixed_number_of_queries(dana, django_assert_max_num_queries):
    for minutes in range(30):
        notify(dana, minutes_ago=minutes)

    with django_assert_max_num_queries(3):
        response = client_for(dana.user).get(LIST)

    assert response.json()["count"] == 30 and response.json()["unread"] == 30
