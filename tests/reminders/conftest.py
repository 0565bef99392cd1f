"""A promotion cycle with short cases, the people around them, a frozen clock and a fake broker.

Timeline (UTC): the cycle opened 2026-10-01; evidence deadline Friday 2026-11-20 with offsets [14, 7, 1] (occasions
11-06, 11-13, 11-19); decision deadline 2026-12-10. Dana (Paris) and Sam (New York) have open, short cases;
their manager Maya (Paris) reviews; Hana is HR (Paris); Chris is a CX reviewer (Singapore).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from celery import Celery
from django.core import mail
from django.utils import timezone

from apps.cases.services import case_open_many
from apps.common.roles import Role, ensure_role_groups
from apps.policies.models import RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from apps.reminders import outbox
from apps.reminders.models import Reminder
from apps.reminders.services import reminder_send, reminders_drain_events
from ritualcriteria.celery import app as project_app
from tests.factories.cases import CycleFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

UTC = dt.UTC
STORY_RULE = {"count": 1, "categories": ["customer_story"], "within_days": 365}
START = dt.datetime(2026, 10, 5, 8, 0, tzinfo=UTC)


def at(text: str) -> dt.datetime:
    """An instant in UTC from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Time stands still at START until a test moves it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


class FakeBroker:
    """Stands in for Celery's broker in unit tests: records what was published; `deliver` runs the send tasks.

    A drain task published after an evidence event commits runs at once, as an idle worker would, unless the broker
    is down (the events then wait in their queue for a sweep).
    """

    def __init__(self) -> None:
        self.published: list[int] = []
        self.drains = 0
        self.down = False

    def publish_drain(self) -> None:
        if self.down:
            return
        self.drains += 1
        reminders_drain_events()

    def publish(self, ids, *, force: bool = False):  # type: ignore[no-untyped-def]
        if self.down:
            return []
        self.published.extend(ids)
        return list(ids)

    def deliver(self) -> list[str]:
        """Run the send task of everything published so far, in order (as a worker would)."""
        ids, self.published = self.published, []
        return [reminder_send(reminder_id=pk) for pk in ids]


@pytest.fixture
def broker(monkeypatch) -> FakeBroker:
    fake = FakeBroker()
    monkeypatch.setattr(outbox, "publish", fake.publish)
    monkeypatch.setattr(outbox, "publish_drain", fake.publish_drain)
    return fake


@pytest.fixture(autouse=True)
def _broker_not_marked_down(monkeypatch):
    """Each test starts with this process taking the broker for up (a test may have seen it down)."""
    monkeypatch.setattr(outbox, "_down_until", 0.0)


@contextlib.contextmanager
def celery_app_on(broker_url: str) -> Iterator[Celery]:
    """Publish through a Celery app configured as the project's but on another broker (a dead one, memory://).

    The app is current in this thread only: the code under test publishes through it (`celery.current_app`), while
    a test worker keeps consuming from the project's broker.
    """
    other = Celery("ritualcriteria-test", set_as_current=False)
    other.config_from_object("django.conf:settings", namespace="CELERY")
    other.conf.broker_url = broker_url
    other.set_current()
    try:
        yield other
    finally:
        project_app.set_current()
        other.close()


@pytest.fixture
def world(db, clock, settings):
    """The cycle, its short cases and the people around them, as of START."""
    settings.SITE_URL = "https://rc.example.com"
    settings.REMINDERS_SEND_START_HOUR = 9
    settings.REMINDERS_SEND_END_HOUR = 18
    settings.REMINDERS_REVIEW_WAITING_DAYS = 3
    settings.REMINDERS_ESCALATION_DAYS = 7
    settings.REMINDERS_DIGEST_WEEKDAY = 0
    groups = ensure_role_groups()
    promotion = RitualType.objects.get(code="promotion")
    policy = policy_create(ritual_type=promotion, scope=None)
    version = policy_version_create(policy=policy, effective_from=dt.date(2026, 9, 1))
    requirement_add(version=version, kind="min_evidence", params=STORY_RULE, label="One customer story")
    policy_version_publish(version=version, today=dt.date(2026, 9, 1))
    cycle = CycleFactory(
        ritual_type=promotion,
        name="Promotions 2026-H2",
        opens_on=dt.date(2026, 10, 1),
        evidence_deadline=dt.date(2026, 11, 20),
        decision_deadline=dt.date(2026, 12, 10),
        reminder_offsets=[14, 7, 1],
    )
    unit = OrgUnitFactory(name="Front Desk")
    director = EmployeeFactory(org_unit=unit, full_name="Dora Director", timezone="Europe/Paris")
    maya = EmployeeFactory(
        org_unit=unit, manager=director, full_name="Maya Manager", timezone="Europe/Paris",
        user=UserFactory(username="maya"),
    )  # fmt: skip
    dana = EmployeeFactory(
        org_unit=unit, manager=maya, full_name="Dana Okafor", timezone="Europe/Paris", user=UserFactory(username="dana")
    )
    sam = EmployeeFactory(org_unit=unit, manager=maya, full_name="Sam Rivera", timezone="America/New_York")
    hr_user = UserFactory(username="hana", first_name="Hana", last_name="Resources")
    hr_user.groups.add(groups[Role.HR])
    hana = EmployeeFactory(org_unit=OrgUnitFactory(name="People"), full_name="Hana Resources", user=hr_user)
    cx_user = UserFactory(username="chris")
    cx_user.groups.add(groups[Role.CX_REVIEWER])
    chris = EmployeeFactory(
        org_unit=OrgUnitFactory(name="CX"), full_name="Chris Reviewer", timezone="Asia/Singapore", user=cx_user
    )
    cases = case_open_many(
        cycle=cycle, subjects=[{"subject_employee": p, "nominated_by": maya} for p in (dana, sam)], today=START.date()
    )
    mail.outbox.clear()
    return {
        "cycle": cycle,
        "maya": maya,
        "dana": dana,
        "sam": sam,
        "hana": hana,
        "chris": chris,
        "hr_user": hr_user,
        "dana_case": cases[0],
        "sam_case": cases[1],
    }


def rows(**filters) -> list[Reminder]:  # type: ignore[no-untyped-def]
    """Reminders matching the filters, oldest first."""
    return list(Reminder.objects.filter(**filters).order_by("created_at", "pk"))


def of_kind(mails: list, kind: str) -> list:  # type: ignore[type-arg]
    """The mails of one kind of reminder (their X-Reminder-Key header starts with the kind)."""
    return [m for m in mails if m.extra_headers["X-Reminder-Key"].startswith(f"{kind}:")]


def not_inserts(queries) -> int:  # type: ignore[no-untyped-def]
    """How many captured statements were not INSERTs (a bulk insert takes as many as the database's batch size says)."""
    return sum(1 for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("INSERT"))


def keys(**filters) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.key for r in rows(**filters)}


@pytest.fixture
def plan(broker, django_capture_on_commit_callbacks):
    """Run a planner pass at an instant (after-commit publishing included); return the rows it created."""
    from apps.reminders.services import reminders_plan

    def run(when: str | dt.datetime) -> list[Reminder]:
        now = at(when) if isinstance(when, str) else when
        with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
            return reminders_plan(now=timezone.now()).created

    return run


@pytest.fixture
def sweep(broker, django_capture_on_commit_callbacks):
    """Run a sweep at an instant, then deliver what it published; return the mails sent."""
    from apps.reminders.services import reminders_sweep

    def run(when: str | dt.datetime) -> list[mail.EmailMessage]:
        now = at(when) if isinstance(when, str) else when
        before = len(mail.outbox)
        with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
            reminders_sweep(now=timezone.now())
            broker.deliver()
        return mail.outbox[before:]

    return run
