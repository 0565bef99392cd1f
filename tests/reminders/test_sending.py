"""The sender claims, sends and marks a row once; the mail names the case, what is missing and where to act; the
evidence workflow's notifications are written with the change; failures retry and end visible as failed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.evidence.services import evidence_reject, evidence_request_changes, evidence_submit, evidence_verify
from apps.reminders.constants import ReminderKind, ReminderStatus
from apps.reminders.models import PendingEvidenceEvent, Reminder
from apps.reminders.services import SendFailed, reminder_send, reminders_drain_events, reminders_resend, reminders_sweep
from tests.factories.evidence import EvidenceFactory

from .backends import FlakyBackend
from .conftest import at, not_inserts, of_kind, rows

DUE = ReminderKind.EVIDENCE_DUE


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.reminders.backends.FlakyBackend"
    FlakyBackend.failures = 0
    FlakyBackend.attempts = 0
    return FlakyBackend


def due_reminder(world, plan) -> Reminder:  # type: ignore[no-untyped-def]
    plan("2026-11-06 10:00")
    return rows(kind=DUE, case=world["dana_case"])[0]


def send(reminder: Reminder, when: str = "2026-11-06 10:00", **kwargs) -> str:  # type: ignore[no-untyped-def]
    with time_machine.travel(at(when), tick=False):
        return reminder_send(reminder_id=reminder.pk, **kwargs)


# ------------------------------------------------------------------------------------------------ the e-mail


def test_the_evidence_due_mail_names_the_case_what_is_missing_and_links_to_act(world, plan):
    reminder = due_reminder(world, plan)

    assert send(reminder) == "sent"

    (message,) = mail.outbox
    text, (html, mime) = message.body, message.alternatives[0]
    assert mime == "text/html"
    assert message.subject == "Promotions 2026-H2: evidence for Dana Okafor is due in 14 days"
    for body in (text, html):
        assert "Your case" in body and "Promotions 2026-H2" in body and "2026-11-20" in body
        assert "One customer story" in body and "0 of 1" in body
        assert f"https://rc.example.com/cases/{world['dana_case'].pk}/" in body
        assert "https://rc.example.com/me/evidence/new/" in body
    assert message.extra_headers["X-Reminder-Key"] == reminder.key
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"


def test_html_mail_escapes_what_people_typed(world, plan):
    world["dana"].full_name = "Dana <script>alert(1)</script>"
    world["dana"].save()
    reminder = due_reminder(world, plan)

    send(reminder)

    html = mail.outbox[0].alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_sent_reminder_is_marked_and_never_sent_again(world, plan):
    reminder = due_reminder(world, plan)

    assert send(reminder) == "sent"
    assert send(reminder) == "already sent"

    reminder.refresh_from_db()
    assert len(mail.outbox) == 1
    assert reminder.status == ReminderStatus.SENT and reminder.sent_at == at("2026-11-06 10:00")
    assert reminder.attempts == 1


def test_a_reminder_is_not_sent_before_it_is_due(world, plan):
    plan("2026-11-05 23:30")
    (reminder,) = rows(kind=DUE, case=world["dana_case"])

    assert send(reminder, "2026-11-06 07:00") == "not due yet"
    assert mail.outbox == []


# ------------------------------------------------------------------------------------------------ failures


def test_a_failed_send_goes_back_to_pending_with_the_error_and_the_retry_sends_it(world, plan, flaky):
    reminder = due_reminder(world, plan)
    flaky.failures = 1

    with pytest.raises(SendFailed, match="SMTPServerDisconnected"):
        send(reminder)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.PENDING
    assert "Attempt 1: SMTPServerDisconnected" in reminder.last_error

    assert send(reminder, "2026-11-06 10:01") == "sent"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, len(mail.outbox)) == (ReminderStatus.SENT, 2, 1)


def test_the_last_attempt_without_a_definite_answer_leaves_the_reminder_possibly_sent_for_hr(world, plan, flaky):
    reminder = due_reminder(world, plan)
    flaky.failures = 5

    assert send(reminder, final_attempt=True) == ReminderStatus.UNCERTAIN  # no retry is asked for

    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.UNCERTAIN  # not "failed": the server never refused it
    assert "SMTPServerDisconnected" in reminder.last_error and "no definite answer" in reminder.last_error


def test_send_again_now_sends_a_possibly_sent_reminder_once(
    world, plan, flaky, broker, django_capture_on_commit_callbacks
):
    reminder = due_reminder(world, plan)
    flaky.failures = 1
    send(reminder, final_attempt=True)
    broker.published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_resend(reminder_ids=[reminder.pk]) == [reminder.pk]
    assert broker.published == [reminder.pk]
    broker.deliver()

    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT and len(mail.outbox) == 1
    assert reminders_resend(reminder_ids=[reminder.pk]) == []  # only failed or possibly sent ones


def test_a_row_left_sending_by_a_dead_worker_is_taken_back_by_the_sweeper_and_sent_again(world, plan, broker):
    from apps.reminders.services import _claim

    reminder = due_reminder(world, plan)
    broker.published.clear()
    with time_machine.travel(at("2026-11-06 10:00"), tick=False):
        _claim(reminder.pk, at("2026-11-06 10:00"))  # the worker took it, then died before sending
    with time_machine.travel(at("2026-11-06 10:00") + dt.timedelta(seconds=30), tick=False):
        assert reminder_send(reminder_id=reminder.pk) == "already sending"  # the redelivered task leaves it

    with time_machine.travel(at("2026-11-06 10:00") + dt.timedelta(seconds=50), tick=False):
        assert reminders_sweep().recovered == 0  # the claim (60 s by default) still runs
    with time_machine.travel(at("2026-11-06 10:01") + dt.timedelta(seconds=30), tick=False):
        assert reminders_sweep().recovered == 1
    assert broker.published == [reminder.pk]  # handed over again by the same sweep
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.PENDING and "may have gone out" in reminder.last_error

    with time_machine.travel(at("2026-11-06 10:02"), tick=False):
        assert broker.deliver() == ["sent"]
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, len(mail.outbox)) == (ReminderStatus.SENT, 2, 1)
    assert "may have gone out" in reminder.last_error  # the record keeps that a copy may be twice


# ------------------------------------------------------------------------------------------------ outbox


def test_the_sweeper_hands_over_due_rows_not_handed_over_and_leaves_fresh_ones(world, plan, broker):
    plan("2026-11-05 23:30")  # planned for 08:00, not handed over
    (reminder,) = rows(kind=DUE, case=world["dana_case"])
    broker.published.clear()

    with time_machine.travel(at("2026-11-06 08:00"), tick=False):
        assert reminders_sweep().published >= 1
    assert reminder.pk in broker.published
    broker.published.clear()
    with time_machine.travel(at("2026-11-06 08:10"), tick=False):
        reminders_sweep()
    assert reminder.pk not in broker.published  # handed over 10 minutes ago: give the worker time
    with time_machine.travel(at("2026-11-06 08:16"), tick=False):
        reminders_sweep()
    assert reminder.pk in broker.published  # still pending 15 minutes later: the message may be lost


def test_when_the_broker_refuses_the_rows_stay_for_the_sweeper(world, plan, broker):
    broker.down = True
    created = plan("2026-11-06 10:00")

    assert created and all(
        Reminder.objects.get(pk=r.pk).enqueued_at is None for r in created if r.due_at <= at("2026-11-06 10:00")
    )
    broker.down = False
    with time_machine.travel(at("2026-11-06 10:01"), tick=False):
        reminders_sweep()
    assert set(broker.published) >= {
        r.pk for r in created if r.status == ReminderStatus.PENDING and r.due_at <= at("2026-11-06 10:01")
    }


# ------------------------------------------------------------------------------------------------ evidence workflow


@pytest.fixture
def item(world):
    return EvidenceFactory(owner=world["dana"], title="Late check-out in the app")


def _at(when: str, django_capture_on_commit_callbacks, action):  # type: ignore[no-untyped-def]
    with time_machine.travel(at(when), tick=False), django_capture_on_commit_callbacks(execute=True):
        return action()


@pytest.mark.parametrize(
    ("review", "phrase", "link"),
    [
        (lambda e, by: evidence_verify(evidence=e, by=by, comment="Checked the ticket."), "was verified", "evidence/"),
        (
            lambda e, by: evidence_request_changes(evidence=e, by=by, comment="Add the metric before and after."),
            "asked for changes",
            "/edit/",
        ),
        (
            lambda e, by: evidence_reject(evidence=e, by=by, comment="This is not customer work."),
            "was rejected",
            "evidence/",
        ),
    ],
    ids=["verified", "changes_requested", "rejected"],
)
def test_the_owner_hears_of_each_review_with_the_comment_and_a_link(
    world, item, broker, django_capture_on_commit_callbacks, review, phrase, link
):
    _at(
        "2026-11-02 10:00",
        django_capture_on_commit_callbacks,
        lambda: evidence_submit(evidence=item, by=world["dana"].user),
    )
    _at("2026-11-02 11:00", django_capture_on_commit_callbacks, lambda: review(item, world["maya"].user))
    with time_machine.travel(at("2026-11-02 11:00"), tick=False):
        broker.deliver()

    (message,) = of_kind(mail.outbox, ReminderKind.EVIDENCE_REVIEWED)
    assert message.to == [f"Dana Okafor <{world['dana'].email}>"]
    assert phrase in message.body and "Late check-out in the app" in message.body
    assert "https://rc.example.com/" in message.body and link in message.body
    if "verified" not in phrase:
        assert item.__class__.objects.get(pk=item.pk).review_comment in message.body


def test_a_review_late_in_the_evening_reaches_the_owner_the_next_morning(
    world, item, broker, django_capture_on_commit_callbacks, sweep
):
    _at(
        "2026-11-02 10:00",
        django_capture_on_commit_callbacks,
        lambda: evidence_submit(evidence=item, by=world["dana"].user),
    )
    _at(
        "2026-11-02 20:00",
        django_capture_on_commit_callbacks,
        lambda: evidence_verify(evidence=item, by=world["maya"].user),
    )

    (notice,) = rows(kind=ReminderKind.EVIDENCE_REVIEWED)
    assert notice.due_at == at("2026-11-03 08:00")  # 21:00 in Paris: 09:00 the next day
    assert of_kind(sweep("2026-11-03 07:59"), ReminderKind.EVIDENCE_REVIEWED) == []
    assert len(of_kind(sweep("2026-11-03 08:00"), ReminderKind.EVIDENCE_REVIEWED)) == 1


def test_the_queued_event_commits_with_the_submission_and_rolls_back_with_it(world, item):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        evidence_submit(evidence=item, by=world["dana"].user)
        queued = PendingEvidenceEvent.objects.filter(evidence_id=item.pk)
        assert [e.event for e in queued] == ["submitted"]  # written inside the transaction
        raise RuntimeError("the request failed after the submission")

    assert not PendingEvidenceEvent.objects.exists()
    assert reminders_drain_events() == 0
    assert rows(kind=ReminderKind.REVIEW_REQUESTED, evidence=item) == []


def test_the_worker_writes_the_reviewers_notices_of_a_queued_submission_once(world, item):
    evidence_submit(evidence=item, by=world["dana"].user)
    assert rows(kind=ReminderKind.REVIEW_REQUESTED, evidence=item) == []  # not in the request

    assert reminders_drain_events() == 1
    assert reminders_drain_events() == 0  # the queue is empty: nothing twice

    assert {r.recipient_user.username for r in rows(kind=ReminderKind.REVIEW_REQUESTED, evidence=item)} == {
        "maya",
        "chris",
    }


def test_a_failing_notification_never_breaks_the_submission_nor_holds_up_the_others(world, item, monkeypatch):
    from apps.reminders import notify

    other = EvidenceFactory(owner=world["dana"], title="Rebuilt the accessible-room filter")
    real = notify.review_planned

    def broken_for_item(row, **kwargs):  # type: ignore[no-untyped-def]
        if row[0] == item.pk:
            raise RuntimeError("template missing")
        return real(row, **kwargs)

    monkeypatch.setattr(notify, "review_planned", broken_for_item)

    assert evidence_submit(evidence=item, by=world["dana"].user).status == "submitted"
    evidence_submit(evidence=other, by=world["dana"].user)

    assert reminders_drain_events() == 2
    assert not PendingEvidenceEvent.objects.exists()  # the broken event is dropped, not retried forever
    assert rows(kind=ReminderKind.REVIEW_REQUESTED, evidence=item) == []
    assert {r.recipient_user.username for r in rows(kind=ReminderKind.REVIEW_REQUESTED, evidence=other)} == {
        "maya",
        "chris",
    }


def test_a_drain_writes_a_batch_of_events_in_the_same_statements_whatever_its_size(world):
    dana = world["dana"].user

    def submit(count: int, label: str) -> None:
        for n in range(count):
            evidence_submit(evidence=EvidenceFactory(owner=world["dana"], title=f"{label} {n}"), by=dana)

    submit(2, "Small")
    with CaptureQueriesContext(connection) as small:
        assert reminders_drain_events() == 2
    submit(30, "Item")

    # lock the batch, read the items and the CX reviewers once, insert: as many other statements for 30 as for 2
    with CaptureQueriesContext(connection) as large:
        assert reminders_drain_events() == 30
    assert not_inserts(large) <= not_inserts(small)

    assert Reminder.objects.filter(kind=ReminderKind.REVIEW_REQUESTED).count() == 64  # Maya and Chris, each item


def test_review_reminders_due_for_the_same_person_go_out_as_one_mail(
    world, broker, django_capture_on_commit_callbacks, sweep
):
    first = EvidenceFactory(owner=world["dana"], title="Rebuilt the accessible-room filter")
    second = EvidenceFactory(owner=world["dana"], title="Late check-out in the app")
    for item in (first, second):
        _at(
            "2026-11-02 10:00",
            django_capture_on_commit_callbacks,
            lambda i=item: evidence_submit(evidence=i, by=world["dana"].user),
        )

    mails = of_kind(sweep("2026-11-02 10:00"), ReminderKind.REVIEW_REQUESTED)

    (message,) = [m for m in mails if "Maya Manager" in m.to[0]]
    assert message.subject == "2 items are waiting for your review"
    assert "Rebuilt the accessible-room filter" in message.body and "Late check-out in the app" in message.body
    maya_rows = [r for r in rows(kind=ReminderKind.REVIEW_REQUESTED) if r.recipient_user == world["maya"].user]
    assert [r.status for r in maya_rows] == [ReminderStatus.SENT, ReminderStatus.SENT]
    assert of_kind(sweep("2026-11-02 10:30"), ReminderKind.REVIEW_REQUESTED) == []  # nothing left for Maya
