"""At least once, duplicates recognisable: a definite refusal by the mail server is 'failed' at once; no definite
answer is retried and then 'possibly sent', never 'failed'; every copy of a reminder carries the same Message-ID;
HR sees possibly sent apart from failed and is warned before sending one again."""

from __future__ import annotations

import datetime as dt
import smtplib

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from apps.reminders.constants import ReminderStatus
from apps.reminders.delivery import is_definite_refusal
from apps.reminders.messages import message_id_for
from apps.reminders.models import Reminder
from apps.reminders.services import SendFailed, _claim, reminder_send, reminders_resend, reminders_sweep
from apps.reminders.tasks import SEND_TIME_LIMIT
from ritualcriteria.settings import base
from tests.factories.reminders import ReminderFactory

from .backends import FlakyBackend, RefusingBackend, TimeoutBackend
from .conftest import at, rows

NOW = "2026-11-06 10:00"


def due_reminder(world, plan) -> Reminder:  # type: ignore[no-untyped-def]
    plan(NOW)
    return rows(kind="evidence_due", case=world["dana_case"])[0]


def send(reminder: Reminder, when: dt.datetime | str = NOW, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with time_machine.travel(at(when) if isinstance(when, str) else when, tick=False):
        return reminder_send(reminder_id=reminder.pk, **kwargs)


def message_ids(mails) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.message()["Message-ID"] for m in mails]


# ------------------------------------------------------------------------------------------------ classification


@pytest.mark.parametrize(
    ("error", "definite"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x.test": (550, b"5.1.1 no such user")}), True),
        (smtplib.SMTPRecipientsRefused({"a@x.test": (550, b"no"), "b@x.test": (451, b"later")}), False),
        (smtplib.SMTPRecipientsRefused({"a@x.test": (452, b"mailbox full, later")}), False),
        (smtplib.SMTPSenderRefused(553, b"sender not allowed", "rc@x.test"), True),
        (smtplib.SMTPDataError(554, b"message refused as spam"), True),
        (smtplib.SMTPDataError(421, b"service closing"), False),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), True),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), False),
        (TimeoutError("timed out"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
    ],
    ids=[
        "recipient-5xx", "one-recipient-4xx", "recipient-4xx", "sender-5xx", "data-5xx", "data-4xx", "auth-5xx",
        "disconnected", "timeout", "connection-refused",
    ],
)  # fmt: skip
def test_only_a_5xx_answer_is_a_definite_refusal(error, definite):
    assert is_definite_refusal(error) is definite


# ------------------------------------------------------------------------------------------------ sending


@pytest.fixture
def backend(settings):
    def use(cls):  # type: ignore[no-untyped-def]
        settings.EMAIL_BACKEND = f"tests.reminders.backends.{cls.__name__}"
        cls.attempts = 0
        return cls

    return use


def test_a_definite_refusal_fails_the_reminder_at_once_without_retrying(world, plan, backend):
    reminder = due_reminder(world, plan)
    backend(RefusingBackend).code = 550

    assert send(reminder) == ReminderStatus.FAILED  # no SendFailed: the task asks for no retry

    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, RefusingBackend.attempts) == (ReminderStatus.FAILED, 1, 1)
    assert "SMTPRecipientsRefused" in reminder.last_error
    assert "refused by the mail server: not sent" in reminder.last_error


def test_a_temporary_refusal_is_tried_again(world, plan, backend):
    reminder = due_reminder(world, plan)
    backend(RefusingBackend).code = 450

    with pytest.raises(SendFailed):
        send(reminder)

    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.PENDING


def test_a_server_that_times_out_is_retried_then_the_reminder_is_possibly_sent_never_failed(
    world, plan, backend, settings
):
    settings.REMINDERS_MAX_ATTEMPTS = 3
    reminder = due_reminder(world, plan)
    backend(TimeoutBackend)

    for minute in (1, 2):
        with pytest.raises(SendFailed):
            send(reminder, at(NOW) + dt.timedelta(minutes=minute))
        assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.PENDING
    assert send(reminder, at(NOW) + dt.timedelta(minutes=3)) == ReminderStatus.UNCERTAIN

    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, TimeoutBackend.attempts) == (ReminderStatus.UNCERTAIN, 3, 3)
    assert reminder.last_error == "Attempt 3: TimeoutError: timed out (no definite answer)"
    assert send(reminder, at(NOW) + dt.timedelta(minutes=4)) == "already uncertain"  # a late retry sends nothing


def test_a_worker_that_keeps_dying_is_given_up_after_the_attempts_and_left_possibly_sent(world, plan, broker, settings):
    settings.REMINDERS_MAX_ATTEMPTS = 2
    reminder = due_reminder(world, plan)
    start = at(NOW)
    for attempt in (1, 2):
        claimed = start + dt.timedelta(minutes=10 * attempt)
        with time_machine.travel(claimed, tick=False):
            _claim(reminder.pk, claimed)  # the worker dies after this, each time
        with time_machine.travel(claimed + dt.timedelta(seconds=settings.REMINDERS_SENDING_TIMEOUT + 1), tick=False):
            swept = reminders_sweep()
        assert (swept.recovered, swept.uncertain) == ((1, 0) if attempt == 1 else (0, 1))

    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.UNCERTAIN and reminder.attempts == 2
    assert "may have gone out" in reminder.last_error and "ask the recipient" in reminder.last_error
    assert mail.outbox == []


# ------------------------------------------------------------------------------------------------ Message-ID


def test_every_attempt_and_resend_of_a_reminder_carries_the_same_message_id(
    world, plan, flaky, broker, django_capture_on_commit_callbacks, settings
):
    settings.DEFAULT_FROM_EMAIL = "Ritual Criteria <notices@rc.example.com>"
    reminder = due_reminder(world, plan)
    broker.published.clear()  # the planner's hand-over: this test delivers by hand
    flaky.failures = 1
    with pytest.raises(SendFailed):
        send(reminder)
    assert send(reminder, "2026-11-06 10:01") == "sent"
    Reminder.objects.filter(pk=reminder.pk).audited_update(status=ReminderStatus.UNCERTAIN)  # say it was in doubt

    with django_capture_on_commit_callbacks(execute=True):
        reminders_resend(reminder_ids=[reminder.pk])
    with time_machine.travel(at("2026-11-06 10:05"), tick=False):
        broker.deliver()

    first, second = mail.outbox
    assert message_ids(mail.outbox) == [message_id_for(reminder.key)] * 2
    assert message_id_for(reminder.key).endswith("@rc.example.com>")
    assert first.extra_headers["X-Reminder-Key"] == second.extra_headers["X-Reminder-Key"] == reminder.key
    other = rows(kind="evidence_due", case=world["sam_case"])[0]
    assert message_id_for(other.key) != message_id_for(reminder.key)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.reminders.backends.FlakyBackend"
    FlakyBackend.failures = 0
    FlakyBackend.attempts = 0
    return FlakyBackend


def test_the_message_id_falls_back_to_the_sites_host_without_a_sender_domain(settings):
    settings.DEFAULT_FROM_EMAIL = "ritual-criteria"
    settings.SITE_URL = "https://hr.example.org"

    assert message_id_for("digest:team-8:employee-8:2026-W46").endswith("@hr.example.org>")


def test_by_default_a_dead_workers_reminder_is_retried_within_two_minutes():
    assert base.REMINDERS_SENDING_TIMEOUT + base.REMINDERS_SWEEP_EVERY <= 120
    assert SEND_TIME_LIMIT < base.REMINDERS_SENDING_TIMEOUT  # a live worker never outlives its claim


# ------------------------------------------------------------------------------------------------ admin


@pytest.fixture
def hr_client(client, world):
    world["hr_user"].is_staff = True
    world["hr_user"].is_superuser = True
    world["hr_user"].save()
    client.force_login(world["hr_user"])
    return client


def test_hr_sees_possibly_sent_apart_from_failed_with_what_each_means(hr_client, world, django_assert_max_num_queries):
    failed = ReminderFactory(status=ReminderStatus.FAILED, last_error="550 no such mailbox")
    uncertain = ReminderFactory(status=ReminderStatus.UNCERTAIN, last_error="worker stopped")
    ReminderFactory.create_batch(5, status=ReminderStatus.SENT)
    url = reverse("admin:reminders_reminder_changelist")

    with django_assert_max_num_queries(12):
        page = hr_client.get(url).content.decode()
    assert "Possibly sent" in page and "Failed (refused)" in page and "may have" in page

    only_uncertain = hr_client.get(url, {"needs_hr": "uncertain"}).content.decode()
    assert uncertain.to_email in only_uncertain and failed.to_email not in only_uncertain
    only_failed = hr_client.get(url, {"needs_hr": "failed"}).content.decode()
    assert failed.to_email in only_failed and uncertain.to_email not in only_failed
    detail = hr_client.get(reverse("admin:reminders_reminder_change", args=[uncertain.pk])).content.decode()
    assert "Message-ID" in detail and "ask the recipient" in detail.lower()


def test_send_again_on_a_possibly_sent_reminder_warns_of_a_second_copy_first(
    hr_client, world, broker, django_capture_on_commit_callbacks
):
    uncertain = ReminderFactory(status=ReminderStatus.UNCERTAIN, last_error="worker stopped")
    url = reverse("admin:reminders_reminder_changelist")
    chosen = {"action": "send_again_now", "_selected_action": [uncertain.pk]}

    warning = hr_client.post(url, chosen)

    text = warning.content.decode()
    assert warning.status_code == 200 and "second copy" in text and escape(message_id_for(uncertain.key)) in text
    assert Reminder.objects.get(pk=uncertain.pk).status == ReminderStatus.UNCERTAIN  # nothing done yet
    assert broker.published == []

    with django_capture_on_commit_callbacks(execute=True):
        done = hr_client.post(url, {**chosen, "post": "yes"}, follow=True)

    assert "1 reminder(s) queued to be sent again now" in done.content.decode()
    assert broker.published == [uncertain.pk]
    assert Reminder.objects.get(pk=uncertain.pk).status == ReminderStatus.PENDING
