"""Notifications of case events: the approver whose step waits, the owner and nominator of a decision, a second HR
for an exception, and the reviewer who asked for changes when the item comes back. Each once, in sending hours."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from apps.cases.hooks import CaseEvent, case_event
from apps.cases.models import ApprovalRoute, ApprovalStep
from apps.cases.services import case_withdraw
from apps.common.roles import Role, ensure_role_groups
from apps.evidence.services import evidence_request_changes, evidence_submit
from apps.reminders.constants import MANDATORY_KINDS, ReminderKind, ReminderStatus
from apps.reminders.models import Reminder
from apps.reminders.services import reminder_send
from tests.factories.cases import DelegationFactory, PolicyExceptionFactory
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory

from .conftest import at, of_kind, rows

STEP, DECIDED, EXCEPTION, RESUBMITTED = (
    ReminderKind.STEP_WAITING,
    ReminderKind.CASE_DECIDED,
    ReminderKind.EXCEPTION_WAITING,
    ReminderKind.EVIDENCE_RESUBMITTED,
)


@pytest.fixture
def announce(broker, django_capture_on_commit_callbacks):
    """Announce a case event at an instant, as the case services do, and let it commit (receivers run then)."""

    def run(case, event: CaseEvent, when: str = "2026-10-05 08:00", **context) -> None:  # type: ignore[no-untyped-def]
        with time_machine.travel(at(when), tick=False), django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                case_event(case_id=case.pk, event=event, **context)

    return run


def send_all(kind: str, when: str = "2026-10-05 08:00") -> list:  # type: ignore[type-arg]
    """Send every pending reminder of a kind at an instant; return the mails of that kind."""
    with time_machine.travel(at(when), tick=False):
        for reminder in rows(kind=kind, status=ReminderStatus.PENDING):
            reminder_send(reminder_id=reminder.pk)
    return of_kind(mail.outbox, kind)


def manager_then_hr(world) -> None:  # type: ignore[no-untyped-def]
    route = ApprovalRoute.objects.create(ritual_type=world["cycle"].ritual_type, name="Promotion route")
    ApprovalStep.objects.create(route=route, order=1, name="Manager recommends", role="manager")
    ApprovalStep.objects.create(route=route, order=2, name="HR approves", role="hr")


def test_the_new_kinds_cannot_be_turned_off():
    assert {STEP, DECIDED, EXCEPTION, RESUBMITTED} <= MANDATORY_KINDS


# ------------------------------------------------------------------------------------------------ step waiting


def test_hr_hears_once_that_the_default_hr_step_waits_with_the_checklist_and_a_link(world, announce, broker):
    case = world["dana_case"]

    announce(case, CaseEvent.STEP_WAITING, order=1)
    announce(case, CaseEvent.STEP_WAITING, order=1)  # announced again: nothing new

    (reminder,) = rows(kind=STEP)
    assert reminder.recipient_user == world["hr_user"]
    assert reminder.key == f"step_waiting:case-{case.pk}:user-{world['hr_user'].pk}:step-1"
    assert "0 of 1 requirement met" in reminder.reason and "HR approves" in reminder.reason
    assert broker.published == [reminder.pk]  # due now (10:00 in Paris): handed over after commit

    (message,) = send_all(STEP)
    assert message.to == [f"Hana Resources <{world['hana'].email}>"]
    assert "Your step is waiting: HR approves for Dana Okafor" in message.subject
    for body in (message.body, message.alternatives[0][0]):
        assert "0 of 1 requirement" in body and "One customer story" in body
        assert f"https://rc.example.com/cases/{case.pk}/" in body


def test_the_managers_step_goes_to_the_manager_and_her_delegate_never_to_the_subject(world, announce):
    manager_then_hr(world)
    stand_in = UserFactory(username="stella", first_name="Stella", last_name="In")
    EmployeeFactory(user=stand_in, full_name="Stella In", timezone="Europe/Paris")
    DelegationFactory(principal=world["maya"].user, delegate=stand_in, starts_on=at("2026-10-01 00:00").date())

    announce(world["dana_case"], CaseEvent.STEP_WAITING, order=1)

    assert {r.recipient_user.username for r in rows(kind=STEP)} == {"maya", "stella"}
    (delegate,) = rows(kind=STEP, recipient_user=stand_in)
    assert "standing in for" in delegate.reason and "Manager recommends" in delegate.reason


def test_a_named_group_step_goes_to_the_groups_members(world, announce):
    from django.contrib.auth.models import Group

    committee = Group.objects.create(name="Promotion committee")
    route = ApprovalRoute.objects.create(ritual_type=world["cycle"].ritual_type, name="Promotion route")
    ApprovalStep.objects.create(route=route, order=1, name="Committee reviews", role="group", group=committee)
    member = UserFactory(username="carla")
    member.groups.add(committee)

    announce(world["dana_case"], CaseEvent.STEP_WAITING, order=1)

    assert [r.recipient_user for r in rows(kind=STEP)] == [member]


def test_a_step_waiting_late_in_the_evening_is_due_the_next_morning_in_the_approvers_time_zone(world, announce):
    announce(world["dana_case"], CaseEvent.STEP_WAITING, "2026-10-05 19:00", order=1)  # 21:00 in Paris

    (reminder,) = rows(kind=STEP)
    assert reminder.due_at == at("2026-10-06 07:00")  # 09:00 in Paris


def test_a_step_decided_before_the_mail_goes_out_cancels_it(world, announce):
    from tests.factories.cases import StepRecordFactory

    announce(world["dana_case"], CaseEvent.STEP_WAITING, order=1)
    StepRecordFactory(case=world["dana_case"], order=1, by=UserFactory())

    assert send_all(STEP) == []
    assert rows(kind=STEP)[0].status == ReminderStatus.CANCELLED


# ------------------------------------------------------------------------------------------------ decided


def test_the_subject_and_the_nominator_hear_the_decision_once_with_the_note(world, announce):
    case = case_withdraw(case=world["dana_case"], by=world["hr_user"], note="Dana moved to another team this month.")

    for _ in range(2):
        announce(case, CaseEvent.DECIDED, status=case.status, by=world["hr_user"].pk)

    assert {r.recipient_employee for r in rows(kind=DECIDED)} == {world["dana"], world["maya"]}
    assert {r.occasion for r in rows(kind=DECIDED)} == {"withdrawn"}
    mails = send_all(DECIDED)
    assert len(mails) == 2
    own = next(m for m in mails if world["dana"].email in m.to[0])
    assert own.subject == "Your case in Promotions 2026-H2 was withdrawn"
    assert "Dana moved to another team this month." in own.body
    assert f"https://rc.example.com/cases/{case.pk}/" in own.body


def test_whoever_decided_is_not_told_of_their_own_decision(world, announce):
    case = case_withdraw(case=world["dana_case"], by=world["maya"].user, note="Withdrawn: Dana asked to wait a cycle.")

    announce(case, CaseEvent.DECIDED, status=case.status, by=world["maya"].user.pk)

    assert [r.recipient_employee for r in rows(kind=DECIDED)] == [world["dana"]]


def test_an_open_case_announced_as_decided_tells_nobody(world, announce):
    announce(world["dana_case"], CaseEvent.DECIDED, status="approved", by=None)

    assert rows(kind=DECIDED) == []


# ------------------------------------------------------------------------------------------------ exception


def test_every_hr_but_the_requester_hears_of_an_exception_with_a_link_to_decide_it(world, announce):
    second = UserFactory(username="henri", first_name="Henri", last_name="Second")
    second.groups.add(ensure_role_groups()[Role.HR])
    exception = PolicyExceptionFactory(case=world["dana_case"], requested_by=world["hr_user"])

    for _ in range(2):
        announce(world["dana_case"], CaseEvent.EXCEPTION_REQUESTED, exception_id=exception.pk, by=world["hr_user"].pk)

    (reminder,) = rows(kind=EXCEPTION)
    assert reminder.recipient_user == second
    assert reminder.due_at == at("2026-10-05 09:00")  # no employee record: the company's sending hours
    (message,) = send_all(EXCEPTION, "2026-10-05 09:00")
    assert "waits for a second HR decision" in message.subject
    assert f"https://rc.example.com/admin/cases/policyexception/{exception.pk}/change/" in message.body
    assert "Hana Resources" in message.body and exception.justification in message.body


def test_an_exception_decided_before_the_mail_goes_out_cancels_it(world, announce):
    second = UserFactory(username="henri")
    second.groups.add(ensure_role_groups()[Role.HR])
    exception = PolicyExceptionFactory(case=world["dana_case"], requested_by=world["hr_user"])
    announce(world["dana_case"], CaseEvent.EXCEPTION_REQUESTED, exception_id=exception.pk)

    exception.status = "refused"
    exception.save()

    assert send_all(EXCEPTION, "2026-10-05 09:00") == []
    assert rows(kind=EXCEPTION)[0].status == ReminderStatus.CANCELLED


# ------------------------------------------------------------------------------------------------ resubmitted


def _at(when: str, capture, action):  # type: ignore[no-untyped-def]
    with time_machine.travel(at(when), tick=False), capture(execute=True):
        return action()


def test_the_reviewer_who_asked_for_changes_hears_once_that_the_item_is_back(
    world, broker, plan, django_capture_on_commit_callbacks
):
    item = EvidenceFactory(owner=world["dana"], title="Late check-out in the app")
    dana, maya = world["dana"].user, world["maya"].user
    capture = django_capture_on_commit_callbacks
    _at("2026-10-05 08:00", capture, lambda: evidence_submit(evidence=item, by=dana))
    comment = "Add the metric before and after."
    _at("2026-10-05 09:00", capture, lambda: evidence_request_changes(evidence=item, by=maya, comment=comment))
    _at("2026-10-05 10:00", capture, lambda: evidence_submit(evidence=item, by=dana))
    plan("2026-10-05 10:05")  # the planner's pass finds the same notices: nothing twice

    (back,) = rows(kind=RESUBMITTED)
    assert back.recipient_user == maya
    assert back.occasion == "submitted-20261005T100000Z"
    # Maya is told the item is back instead of being asked to review it anew; the CX reviewer is asked as usual.
    asked_again = rows(kind=ReminderKind.REVIEW_REQUESTED, occasion="submitted-20261005T100000Z")
    assert [r.recipient_user.username for r in asked_again] == ["chris"]

    (message,) = send_all(RESUBMITTED, "2026-10-05 10:10")
    assert "is back for review after your request for changes" in message.subject
    assert comment in message.body and f"https://rc.example.com/review/{item.pk}/" in message.body


def test_a_first_submission_sends_no_resubmission_notice(world, broker, django_capture_on_commit_callbacks):
    item = EvidenceFactory(owner=world["dana"])
    _at(
        "2026-10-05 08:00",
        django_capture_on_commit_callbacks,
        lambda: evidence_submit(evidence=item, by=world["dana"].user),
    )

    assert rows(kind=RESUBMITTED) == []
    assert {r.recipient_user.username for r in rows(kind=ReminderKind.REVIEW_REQUESTED)} == {"maya", "chris"}


def test_a_failing_case_notification_never_breaks_the_step_that_announced_it(world, announce, monkeypatch):
    from apps.reminders import notify

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("template missing")

    monkeypatch.setattr(notify, "case_event_planned", broken)

    announce(world["dana_case"], CaseEvent.STEP_WAITING, order=1)  # logged by the hook, not raised

    assert not Reminder.objects.filter(kind=STEP).exists()


def test_when_the_manager_recommends_hr_hears_its_step_waits_through_the_real_service(
    world, broker, django_capture_on_commit_callbacks
):
    from apps.cases.services import case_step_decide

    manager_then_hr(world)
    case = world["dana_case"]

    _at(
        "2026-10-05 08:00",
        django_capture_on_commit_callbacks,
        lambda: case_step_decide(case=case, by=world["maya"].user, decision="approve", comment="Recommended."),
    )

    (reminder,) = rows(kind=STEP)
    assert reminder.recipient_user == world["hr_user"]
    assert reminder.occasion == "step-2" and "HR approves" in reminder.reason
