"""One e-mail per key with a real broker (Redis in CI) and a real worker: a send task delivered twice, a send that
fails once then succeeds, two planners at once; a worker lost mid-send is sent again by the sweeper (at least once:
`test_worker_killed.py` kills one for real); and a submission while the broker is down succeeds, its notification
going out once the broker is back."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import OperationalError, connection, connections
from django.utils import timezone

from apps.cases.services import case_open_many
from apps.common.roles import Role, ensure_role_groups
from apps.evidence.constants import EvidenceStatus
from apps.policies.models import RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from apps.reminders import inserts, services
from apps.reminders.constants import ReminderKind, ReminderStatus
from apps.reminders.models import PendingEvidenceEvent, Reminder
from apps.reminders.services import ReminderBusy, _claim, reminder_send, reminders_plan, reminders_sweep
from apps.reminders.tasks import drain_events, send_reminder
from ritualcriteria.celery import app
from tests.factories.cases import CycleFactory
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

from .backends import FlakyBackend
from .conftest import celery_app_on

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

DEAD_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def worker(transactional_db, settings):
    """An in-process worker consuming from the configured broker (no eager mode), sending within sending hours."""
    assert app.conf.task_always_eager is False
    settings.REMINDERS_SEND_START_HOUR, settings.REMINDERS_SEND_END_HOUR = 0, 24
    mail.outbox = []
    app.control.purge()  # tasks an earlier test published (a drain, a send) must not run during this one's setup
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING") as w:
        yield w


@pytest.fixture
def short_cases(transactional_db, settings):
    """An open cycle whose evidence deadline is 7 days away, with `n` short cases (call it)."""
    settings.REMINDERS_SEND_START_HOUR, settings.REMINDERS_SEND_END_HOUR = 0, 24
    today = timezone.now().astimezone(dt.UTC).date()
    promotion = RitualType.objects.get(code="promotion")
    policy = policy_create(ritual_type=promotion, scope=None)
    version = policy_version_create(policy=policy, effective_from=today - dt.timedelta(days=60))
    requirement_add(
        version=version, kind="min_evidence", params={"count": 1, "categories": ["customer_story"], "within_days": 365}
    )
    policy_version_publish(version=version, today=version.effective_from)
    cycle = CycleFactory(
        ritual_type=promotion,
        opens_on=today - dt.timedelta(days=30),
        evidence_deadline=today + dt.timedelta(days=7),
        decision_deadline=today + dt.timedelta(days=30),
        reminder_offsets=[7],
    )

    def make(n: int) -> list:  # type: ignore[type-arg]
        unit = OrgUnitFactory()
        people = [EmployeeFactory(org_unit=unit, timezone="UTC") for _ in range(n)]
        return case_open_many(
            cycle=cycle, subjects=[{"subject_employee": p} for p in people], today=today - dt.timedelta(days=10)
        )

    return make


def wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Poll until `condition()` is true (the worker runs in its own thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OperationalError:  # SQLite's shared in-memory test database: a read that met the worker's write
            connection.close()
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


def settle(seconds: float = 1.5) -> None:
    """Give the worker time to run anything still queued (a second delivery, a retry)."""
    time.sleep(seconds)


def mails_per_key() -> Counter:  # type: ignore[type-arg]
    return Counter(m.extra_headers["X-Reminder-Key"] for m in mail.outbox)


def one_reminder(short_cases) -> Reminder:  # type: ignore[no-untyped-def]
    short_cases(1)
    with _no_publishing():
        (reminder,) = reminders_plan().created
    return reminder


class _no_publishing:
    """Plan without handing anything over, so the test decides when and how often the send task is delivered."""

    def __enter__(self) -> None:
        self._original = services.outbox.publish_after_commit
        services.outbox.publish_after_commit = lambda ids: None

    def __exit__(self, *exc: object) -> None:
        services.outbox.publish_after_commit = self._original


# ------------------------------------------------------------------------------------------------ real worker


def test_a_send_task_delivered_twice_sends_one_mail(worker, short_cases):
    reminder = one_reminder(short_cases)

    send_reminder.delay(reminder.pk)
    send_reminder.delay(reminder.pk)

    wait_for(lambda: Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENT)
    settle()
    assert mails_per_key() == {reminder.key: 1}


def test_a_send_that_fails_once_then_succeeds_sends_one_mail(worker, short_cases, settings):
    settings.EMAIL_BACKEND = "tests.reminders.backends.FlakyBackend"
    FlakyBackend.failures, FlakyBackend.attempts = 1, 0
    reminder = one_reminder(short_cases)

    send_reminder.delay(reminder.pk)

    wait_for(lambda: Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENT, timeout=90)
    settle()
    reminder.refresh_from_db()
    assert FlakyBackend.attempts == 2 and reminder.attempts == 2
    assert reminder.last_error.startswith("Attempt 1: SMTPServerDisconnected")
    assert mails_per_key() == {reminder.key: 1}


def test_a_worker_lost_mid_send_is_taken_back_by_the_sweeper_and_sent_once_more(worker, short_cases):
    reminder = one_reminder(short_cases)
    _claim(reminder.pk, timezone.now())  # a worker claimed it and died before the mail went out

    send_reminder.delay(reminder.pk)  # reject_on_worker_lost: the task comes back to another worker
    settle(2)
    assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENDING  # it leaves the claim alone
    reminders_sweep(now=timezone.now() + dt.timedelta(minutes=2))  # the claim's lease ran out: pending, republished

    wait_for(lambda: Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENT)
    settle()
    reminder.refresh_from_db()
    assert reminder.attempts == 2 and "may have gone out" in reminder.last_error  # the record says a copy may be two
    assert mails_per_key() == {reminder.key: 1}


def test_planner_and_sweeper_through_the_broker_send_each_reminder_once(worker, short_cases):
    short_cases(5)

    created = reminders_plan().created
    reminders_sweep(now=timezone.now() + dt.timedelta(hours=1))  # republishes anything still pending: harmless

    wait_for(lambda: len(mail.outbox) >= 5)
    settle()
    assert len(created) == 5
    assert set(mails_per_key().values()) == {1} and len(mail.outbox) == 5


def test_a_submission_while_the_broker_is_down_succeeds_and_is_notified_when_it_is_back(worker, client, settings):
    groups = ensure_role_groups()
    unit = OrgUnitFactory()
    manager = EmployeeFactory(org_unit=unit, timezone="UTC", user=UserFactory(username="mgr"))
    owner = EmployeeFactory(org_unit=unit, manager=manager, timezone="UTC", user=UserFactory(username="own"))
    UserFactory(username="hr").groups.add(groups[Role.HR])
    evidence = EvidenceFactory(owner=owner)
    client.force_login(owner.user)

    with celery_app_on(DEAD_BROKER):
        started = time.monotonic()
        response = client.post(f"/me/evidence/{evidence.pk}/submit/")
        elapsed = time.monotonic() - started

    assert response.status_code == 302 and elapsed < settings.REMINDERS_PUBLISH_TIMEOUT + 1
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.SUBMITTED
    assert [e.event for e in PendingEvidenceEvent.objects.filter(evidence_id=evidence.pk)] == ["submitted"]  # queued
    settle()
    assert mail.outbox == []

    # The broker is back: the sweeper drains the queue and hands the row over.
    swept = reminders_sweep()
    assert (swept.drained, swept.published) == (1, 1)
    (reminder,) = Reminder.objects.filter(kind=ReminderKind.REVIEW_REQUESTED, evidence=evidence)

    wait_for(lambda: Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENT)
    (message,) = mail.outbox
    assert message.to[0].endswith(f"<{manager.email}>")


def test_a_burst_of_submissions_asks_the_reviewer_of_each_item_once(worker, client):
    unit = OrgUnitFactory()
    manager = EmployeeFactory(org_unit=unit, timezone="UTC", user=UserFactory(username="mgr"))
    owner = EmployeeFactory(org_unit=unit, manager=manager, timezone="UTC", user=UserFactory(username="own"))
    items = [EvidenceFactory(owner=owner, title=f"Item {n}") for n in range(5)]
    client.force_login(owner.user)

    for item in items:  # each commit publishes a drain; a drain that finds the queue empty does nothing
        assert client.post(f"/me/evidence/{item.pk}/submit/").status_code == 302
    drain_events.delay()  # a second delivery of a drain (or the sweeper's) finds nothing left to write

    wait_for(lambda: not PendingEvidenceEvent.objects.exists())
    requested = Reminder.objects.filter(kind=ReminderKind.REVIEW_REQUESTED, evidence__in=items)
    wait_for(lambda: set(requested.values_list("status", flat=True)) == {ReminderStatus.SENT})
    settle()
    assert requested.count() == 5
    assert set(mails_per_key().values()) == {1}  # grouped or not, each key went out in exactly one mail
    assert all(m.to[0].endswith(f"<{manager.email}>") for m in mail.outbox)


# ------------------------------------------------------------------------------------------------ concurrency


def _in_threads(target, count: int = 2) -> list:  # type: ignore[no-untyped-def,type-arg]
    """Run `target()` in `count` threads at once; return their results (re-raising any error)."""
    results: list = [None] * count  # type: ignore[type-arg]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results


@pytest.mark.postgres
def test_two_planners_at_once_create_and_send_each_reminder_once(worker, short_cases, monkeypatch):
    short_cases(20)
    barrier = threading.Barrier(2, timeout=30)
    original = inserts.insert_new
    planner = threading.local()

    def plan():  # type: ignore[no-untyped-def]
        planner.running = True
        return reminders_plan()

    def insert_together(*args, **kwargs):  # type: ignore[no-untyped-def]
        # Only the two planners meet here: a drain the worker runs meanwhile (one an earlier test queued, say)
        # inserts at once instead of holding the barrier and the worker's shutdown.
        if getattr(planner, "running", False) and not getattr(planner, "met", False):
            planner.met = True  # the first insert of each pass: the cycle's chunk, planned by both
            barrier.wait()  # both passes have planned the same reminders; now both insert them
        return original(*args, **kwargs)

    monkeypatch.setattr(inserts, "insert_new", insert_together)

    first, second = _in_threads(plan)

    assert len(first.created) + len(second.created) == 20 == Reminder.objects.count()
    assert not {r.key for r in first.created} & {r.key for r in second.created}
    wait_for(lambda: len(mail.outbox) >= 20)
    settle()
    assert len(mail.outbox) == 20 and set(mails_per_key().values()) == {1}


@pytest.mark.postgres
def test_two_deliveries_of_the_same_send_at_once_send_one_mail(short_cases, monkeypatch):
    mail.outbox = []
    reminder = one_reminder(short_cases)
    barrier = threading.Barrier(2, timeout=30)
    original = services._claim

    def claim_together(*args, **kwargs):  # type: ignore[no-untyped-def]
        barrier.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_claim", claim_together)

    def deliver() -> str:
        try:
            return reminder_send(reminder_id=reminder.pk)
        except ReminderBusy:
            return "busy"  # the task retries shortly

    outcomes = _in_threads(deliver)

    assert sorted(outcomes) in (["busy", "sent"], ["already sending", "sent"], ["already sent", "sent"])
    monkeypatch.undo()
    assert reminder_send(reminder_id=reminder.pk) == "already sent"  # the retry of the busy one
    assert mails_per_key() == {reminder.key: 1}
    assert connection.vendor == "postgresql"
