"""My notifications: every notification a person gets is listed in the portal, newest first; the bell counts the
unread ones; opening the page marks the listed ones read."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from apps.reminders.constants import ReminderKind, ReminderStatus
from apps.reminders.models import Reminder
from apps.reminders.selectors import notification_list
from apps.reminders.services import notifications_mark_read
from tests.factories.cases import CandidateCaseFactory
from tests.factories.reminders import ReminderFactory

from .helpers import page_text

URL = "/me/notifications/"


def to_employee(employee, **kwargs) -> Reminder:  # type: ignore[no-untyped-def]
    kwargs.setdefault("status", ReminderStatus.SENT)
    kwargs.setdefault("sent_at", timezone.now())
    return ReminderFactory(recipient_employee=employee, **kwargs)


def to_user(user, **kwargs) -> Reminder:  # type: ignore[no-untyped-def]
    kwargs.setdefault("status", ReminderStatus.SENT)
    kwargs.setdefault("sent_at", timezone.now())
    return ReminderFactory(
        recipient_employee=None,
        recipient_user=user,
        to_email=user.email,
        recipient_name=user.get_full_name(),
        recipient_timezone="Europe/Paris",
        **kwargs,
    )


def bell(response) -> str:  # type: ignore[no-untyped-def]
    """The unread count the navigation bar's bell shows ('' for none)."""
    import re

    match = re.search(r'data-unread="(\d+)"', response.content.decode())
    return match.group(1) if match else ""


def test_the_url_is_named():
    assert reverse("portal:notifications") == URL


def test_a_person_sees_the_notifications_to_their_login_and_to_their_employee_record_newest_first(cast, as_user):
    now = timezone.now()
    case = CandidateCaseFactory(nominated_by=cast.dana_employee)
    older = to_employee(
        cast.dana_employee, created_at=now - dt.timedelta(days=2), reason="7 days before the evidence deadline"
    )
    newer = to_user(
        cast.dana,
        kind=ReminderKind.CASE_DECIDED,
        case=case,
        created_at=now - dt.timedelta(hours=1),
        reason="The case of Ada was approved",
        context={"subject": "Ada", "cycle": "Hiring 2026", "status_label": "Approved", "own_case": False},
    )
    to_employee(cast.dana_employee, status=ReminderStatus.CANCELLED, reason="Cancelled: the case met its policy")
    to_user(cast.colleague, reason="Someone else's notification")

    text = page_text(as_user(cast.dana).get(URL))

    assert "The case of Ada in Hiring 2026 was approved" in text  # the e-mail's subject line
    assert "7 days before the evidence deadline" in text
    assert text.index("The case of Ada") < text.index("7 days before the evidence deadline")
    assert "Cancelled" not in text and "Someone else's" not in text
    assert [r.pk for r in notification_list(user=cast.dana)] == [newer.pk, older.pk]
    assert f'href="/cases/{case.pk}/"' in as_user(cast.dana).get(URL).content.decode()


def test_a_pending_notification_says_when_it_will_be_emailed(cast, as_user):
    to_employee(
        cast.dana_employee, status=ReminderStatus.PENDING, sent_at=None, due_at=timezone.now() + dt.timedelta(hours=10)
    )

    assert "Will be e-mailed" in page_text(as_user(cast.dana).get(URL))


def test_the_bell_counts_unread_notifications_and_opening_the_list_marks_them_read(cast, as_user):
    client = as_user(cast.dana)
    first, second = to_employee(cast.dana_employee), to_user(cast.dana)
    to_employee(cast.dana_employee, status=ReminderStatus.CANCELLED)  # never counted

    assert bell(client.get(reverse("portal:my-evidence"))) == "2"

    listing = client.get(URL)
    assert listing.content.decode().count('class="unread"') == 2  # shown as new this once
    assert bell(listing) == ""  # the bell on that very page already counts them read
    first.refresh_from_db(), second.refresh_from_db()
    assert first.read_at is not None and second.read_at is not None
    assert bell(client.get(reverse("portal:my-evidence"))) == ""
    assert 'class="unread"' not in client.get(URL).content.decode()


def test_only_the_listed_page_is_marked_read(cast, as_user):
    from apps.portal import constants

    now = timezone.now()
    for hours in range(constants.PAGE_SIZE + 2):
        to_employee(cast.dana_employee, created_at=now - dt.timedelta(hours=hours))

    as_user(cast.dana).get(URL)

    assert Reminder.objects.filter(read_at__isnull=True).count() == 2  # the oldest two are on page 2


def test_marking_read_never_touches_another_persons_notifications(cast):
    theirs = to_user(cast.colleague)

    assert notifications_mark_read(user=cast.dana, reminder_ids=[theirs.pk]) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_empty_list_explains_what_will_appear(cast, as_user):
    response = as_user(cast.bare).get(URL)

    assert response.status_code == 200
    assert "No notifications yet" in page_text(response)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_does_a_fixed_number_of_queries_whatever_the_number_of_notifications(
    cast, as_user, django_assert_max_num_queries
):
    client = as_user(cast.dana)
    for _ in range(3):
        to_employee(cast.dana_employee)
    with django_assert_max_num_queries(20) as few:
        client.get(URL)
    for _ in range(22):
        to_employee(cast.dana_employee)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL)


def test_the_bell_costs_one_count_query_per_page(cast, as_user):
    client = as_user(cast.dana)
    to_employee(cast.dana_employee)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("portal:my-evidence"))
    counts = [q["sql"] for q in queries.captured_queries if "reminders_reminder" in q["sql"]]
    assert len(counts) == 1 and "COUNT(" in counts[0].upper()
