"""Each kind of reminder fires at the right moment in the recipient's time zone, and not before; nothing for
compliant or decided cases; the planner's query count does not grow with the number of cases."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEvent
from apps.audit.personal import reveal, reveal_changes
from apps.cases.services import case_open_many, case_withdraw
from apps.evidence.services import evidence_submit
from apps.reminders.constants import ReminderKind, ReminderStatus
from apps.reminders.services import digest_preference_set, reminders_plan
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory

from .conftest import at, keys, not_inserts, of_kind, rows

DUE = ReminderKind.EVIDENCE_DUE


def give_verified_story(employee) -> None:  # type: ignore[no-untyped-def]
    EvidenceFactory(owner=employee, status="verified", impact_date=dt.date(2026, 10, 1))


# ------------------------------------------------------------------------------------------------ evidence due


def test_evidence_due_is_planned_once_the_offset_day_starts_in_the_recipients_time_zone(world, plan):
    dana, sam = world["dana_case"], world["sam_case"]

    # 23:59 in Paris on the 5th: the 14-day occasion is tomorrow.
    assert [r for r in plan("2026-11-05 22:59") if r.kind == DUE] == []
    created = plan("2026-11-05 23:00")  # midnight in Paris: Dana's day has come, not yet Sam's in New York

    assert [(r.kind, r.case_id, r.occasion) for r in created if r.kind == DUE] == [(DUE, dana.pk, "d-14")]
    assert not rows(kind=DUE, case=sam)
    plan("2026-11-06 05:00")  # midnight in New York
    assert [r.occasion for r in rows(kind=DUE, case=sam)] == ["d-14"]


def test_evidence_due_waits_for_the_recipients_sending_hours(world, plan, sweep):
    plan("2026-11-05 23:30")
    (reminder,) = rows(kind=DUE, case=world["dana_case"])

    assert reminder.due_at == at("2026-11-06 08:00")  # 09:00 in Paris
    assert reminder.enqueued_at is None
    assert of_kind(sweep("2026-11-06 07:59"), DUE) == []
    (mail,) = of_kind(sweep("2026-11-06 08:00"), DUE)
    assert mail.to == [f"Dana Okafor <{world['dana'].email}>"]
    assert "Promotions 2026-H2" in mail.subject and "due in 14 days" in mail.subject


def test_a_pass_inside_sending_hours_hands_the_reminder_to_the_broker_at_once(world, plan, broker):
    created = plan("2026-11-06 10:00")

    dana_row = next(r for r in created if r.kind == DUE and r.case_id == world["dana_case"].pk)
    assert dana_row.due_at == at("2026-11-06 10:00")
    assert dana_row.pk in broker.published
    with time_machine.travel(at("2026-11-06 10:00"), tick=False):
        assert "sent" in broker.deliver()


def test_each_offset_fires_once_and_a_missed_occasion_is_not_sent_late_twice(world, plan):
    plan("2026-11-06 10:00")
    plan("2026-11-06 15:00")
    plan("2026-11-10 10:00")

    assert [r.occasion for r in rows(kind=DUE, case=world["dana_case"])] == ["d-14"]
    plan("2026-11-13 10:00")
    plan("2026-11-19 10:00")
    assert [r.occasion for r in rows(kind=DUE, case=world["dana_case"])] == ["d-14", "d-7", "d-1"]


def test_a_planner_that_was_down_for_days_sends_only_the_latest_occasion(world, plan):
    plan("2026-11-14 10:00")

    assert {r.occasion for r in rows(kind=DUE)} == {"d-7"}


def test_no_evidence_due_before_the_first_offset_or_after_the_deadline(world, plan):
    plan("2026-11-05 12:00")
    plan("2026-11-21 12:00")

    assert not rows(kind=DUE)


def test_nothing_for_a_case_that_meets_its_policy(world, plan):
    give_verified_story(world["dana"])

    plan("2026-11-06 15:00")

    assert {r.case_id for r in rows(kind=DUE)} == {world["sam_case"].pk}


def test_nothing_for_a_decided_case(world, plan):
    case_withdraw(case=world["sam_case"], by=world["hr_user"], note="Left the company in October.")

    plan("2026-11-06 15:00")

    assert {r.case_id for r in rows(kind=DUE)} == {world["dana_case"].pk}


def test_a_case_that_becomes_compliant_before_the_mail_goes_out_is_cancelled_not_sent(world, plan, sweep):
    plan("2026-11-05 23:30")
    with time_machine.travel(at("2026-11-06 07:00"), tick=False):
        give_verified_story(world["dana"])

    assert of_kind(sweep("2026-11-06 08:00"), DUE) == []
    (reminder,) = rows(kind=DUE, case=world["dana_case"])
    assert reminder.status == ReminderStatus.CANCELLED
    assert reminder.last_error == "The case meets its policy now."


def test_a_case_decided_before_the_mail_goes_out_is_cancelled(world, plan, sweep):
    plan("2026-11-05 23:30")
    case_withdraw(case=world["dana_case"], by=world["hr_user"], note="Moved to another team.")

    assert of_kind(sweep("2026-11-06 08:00"), DUE) == []
    assert rows(kind=DUE, case=world["dana_case"])[0].status == ReminderStatus.CANCELLED


def test_candidates_and_org_units_remind_the_nominator(world, plan):
    from apps.policies.models import RitualType
    from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
    from tests.factories.cases import CycleFactory

    policy = policy_create(ritual_type=RitualType.objects.get(code="hiring"), scope=None)
    version = policy_version_create(policy=policy, effective_from=dt.date(2026, 9, 1))
    requirement_add(version=version, kind="min_evidence", params={"count": 1, "within_days": 365})
    policy_version_publish(version=version, today=dt.date(2026, 9, 1))
    hiring = CycleFactory(
        ritual_type=RitualType.objects.get(code="hiring"), evidence_deadline=dt.date(2026, 11, 20),
        opens_on=dt.date(2026, 10, 1), decision_deadline=dt.date(2026, 12, 1), reminder_offsets=[7],
    )  # fmt: skip
    case_open_many(
        cycle=hiring,
        subjects=[
            {
                "candidate_name": "Amara Nwosu",
                "candidate_email": "amara.nwosu@example.net",
                "nominated_by": world["maya"],
            }
        ],
        today=dt.date(2026, 10, 5),
    )

    plan("2026-11-13 10:00")

    (reminder,) = rows(kind=DUE, cycle=hiring)
    assert reminder.recipient_employee == world["maya"]
    assert reminder.context["subject"] == "Amara Nwosu"


# ------------------------------------------------------------------------------------------------ escalations


def test_hr_is_told_once_the_evidence_deadline_has_passed_with_cases_still_short(world, plan, sweep):
    plan("2026-11-20 23:59")  # the company's time zone (UTC here): still the deadline day
    assert not rows(kind=ReminderKind.ESCALATION)

    plan("2026-11-21 00:00")
    (escalation,) = rows(kind=ReminderKind.ESCALATION)  # HR's daily digest of the 21st
    assert escalation.recipient_user == world["hr_user"]
    assert escalation.due_at == at("2026-11-21 08:00")  # 09:00 for Hana in Paris
    assert escalation.occasion == "2026-11-21"
    (cycle,) = escalation.context["cycles"]
    assert (cycle["deadline_kind"], cycle["short_count"]) == ("evidence", 2)
    assert {c["subject"] for c in cycle["cases"]} == {"Dana Okafor", "Sam Rivera"}

    (mail,) = of_kind(sweep("2026-11-21 08:00"), ReminderKind.ESCALATION)
    assert "2 open cases short of policy after the evidence deadline of Promotions 2026-H2" in mail.subject
    assert f"cycle__id__exact={world['cycle'].pk}" in mail.body
    plan("2026-11-22 10:00")
    assert len(rows(kind=ReminderKind.ESCALATION)) == 1


def test_no_escalation_mail_when_every_open_case_meets_its_policy(world, plan, sweep):
    give_verified_story(world["dana"])
    give_verified_story(world["sam"])

    plan("2026-11-21 10:00")

    (recorded,) = rows(kind=ReminderKind.ESCALATION)
    assert recorded.status == ReminderStatus.CANCELLED
    assert "Nothing to escalate" in recorded.last_error
    assert of_kind(sweep("2026-11-21 11:00"), ReminderKind.ESCALATION) == []


def test_the_decision_deadline_escalates_cases_still_short_and_open(world, plan):
    plan("2026-11-21 10:00")
    plan("2026-12-11 10:00")

    digests = rows(kind=ReminderKind.ESCALATION)
    assert [r.occasion for r in digests] == ["2026-11-21", "2026-12-11"]
    assert [[c["deadline_kind"] for c in r.context["cycles"]] for r in digests] == [["evidence"], ["decision"]]


# ------------------------------------------------------------------------------------------------ reviews


@pytest.fixture
def submitted(world, broker, django_capture_on_commit_callbacks):
    """Dana submits a story on Monday 2026-11-02 at 10:00 UTC (11:00 in Paris, 18:00 in Singapore)."""
    with time_machine.travel(at("2026-11-02 10:00"), tick=False), django_capture_on_commit_callbacks(execute=True):
        evidence = EvidenceFactory(owner=world["dana"], title="Rebuilt the accessible-room filter")
        return evidence_submit(evidence=evidence, by=world["dana"].user)


def test_a_submission_asks_the_reviewers_at_once_within_their_sending_hours(world, submitted, broker, sweep):
    requested = rows(kind=ReminderKind.REVIEW_REQUESTED, evidence=submitted)

    assert {r.recipient_user.username: r.due_at for r in requested} == {
        "maya": at("2026-11-02 10:00"),
        "chris": at("2026-11-03 01:00"),  # 18:00 in Singapore is after hours: 09:00 the next morning
    }
    (mail,) = sweep("2026-11-02 10:00")
    assert mail.to == [f"Maya Manager <{world['maya'].email}>"]
    assert f"https://rc.example.com/review/{submitted.pk}/" in mail.body
    (mail,) = sweep("2026-11-03 01:00")
    assert "Chris Reviewer" in mail.to[0]


def test_review_waiting_goes_in_the_next_days_batch_after_n_days_and_hrs_digest_after_m_days(world, submitted, plan):
    plan("2026-11-05 23:59")  # it waited 3 days at 10:00 on the 5th: the reviewers' batch of the 6th lists it
    assert not rows(kind=ReminderKind.REVIEW_WAITING)

    plan("2026-11-06 00:00")
    waiting = rows(kind=ReminderKind.REVIEW_WAITING)
    assert {r.recipient_user.username for r in waiting} == {"maya", "chris"}
    assert all([item["id"] for item in r.context["items"]] == [submitted.pk] for r in waiting)
    plan("2026-11-09 23:59")
    assert not rows(kind=ReminderKind.ESCALATION)

    plan("2026-11-10 00:00")  # 7 days on the 9th: HR's digest of the 10th
    (escalation,) = rows(kind=ReminderKind.ESCALATION)
    assert escalation.recipient_user == world["hr_user"]
    assert [item["id"] for item in escalation.context["reviews"]] == [submitted.pk]
    plan("2026-11-12 10:00")
    assert len(rows(kind=ReminderKind.REVIEW_WAITING)) == 2
    assert len(rows(kind=ReminderKind.ESCALATION)) == 1


def test_a_reviewed_item_gets_no_more_review_reminders(world, submitted, plan, sweep):
    from apps.evidence.services import evidence_verify

    plan("2026-11-06 00:00")  # the batch of the 6th: Chris's due at 09:00 in Singapore, Maya's at 09:00 in Paris
    with time_machine.travel(at("2026-11-06 00:30"), tick=False):
        evidence_verify(evidence=submitted, by=world["maya"].user)

    assert of_kind(sweep("2026-11-06 01:00") + sweep("2026-11-06 08:00"), ReminderKind.REVIEW_WAITING) == []
    assert {r.status for r in rows(kind=ReminderKind.REVIEW_WAITING)} == {ReminderStatus.CANCELLED}
    plan("2026-11-10 10:00")
    assert not rows(kind=ReminderKind.ESCALATION)


def test_the_planner_catches_a_submission_whose_notification_was_not_written(world, plan, clock):
    with time_machine.travel(at("2026-11-02 10:00"), tick=False):
        evidence = EvidenceFactory(owner=world["dana"], status="submitted")
        evidence.submitted_at = at("2026-11-02 10:00")
        evidence.save()

    plan("2026-11-02 10:05")

    assert {r.recipient_user.username for r in rows(kind=ReminderKind.REVIEW_REQUESTED, evidence=evidence)} == {
        "maya",
        "chris",
    }


# ------------------------------------------------------------------------------------------------ digests


def test_the_weekly_digest_goes_to_managers_on_monday_morning_in_their_time_zone(world, plan, sweep):
    plan("2026-11-08 22:59")  # Sunday 23:59 in Paris
    assert not rows(kind=ReminderKind.DIGEST, occasion="2026-W46")

    plan("2026-11-08 23:00")
    (digest,) = rows(kind=ReminderKind.DIGEST, occasion="2026-W46")
    assert digest.recipient_employee == world["maya"]
    (mail,) = of_kind(sweep("2026-11-09 08:00"), ReminderKind.DIGEST)
    assert "Dana Okafor" in mail.body and "Sam Rivera" in mail.body and "One customer story" in mail.body
    plan("2026-11-12 10:00")
    assert len(rows(kind=ReminderKind.DIGEST, occasion="2026-W46")) == 1


def test_a_manager_who_opted_out_gets_no_digest_but_still_gets_deadline_mail(world, plan):
    digest_preference_set(employee=world["maya"], weekly_digest=False, note="Asked HR on Friday.")

    plan("2026-11-09 10:00")

    assert not rows(kind=ReminderKind.DIGEST)


def test_an_opt_out_after_planning_cancels_the_digest(world, plan, sweep):
    plan("2026-11-08 23:30")
    digest_preference_set(employee=world["maya"], weekly_digest=False)

    assert not of_kind(sweep("2026-11-09 08:00"), ReminderKind.DIGEST)
    assert rows(kind=ReminderKind.DIGEST)[0].status == ReminderStatus.CANCELLED


# ------------------------------------------------------------------------------------------------ queries


def _open_more_cases(world, count: int) -> None:  # type: ignore[no-untyped-def]
    people = [
        EmployeeFactory(org_unit=world["dana"].org_unit, manager=world["maya"], timezone="Europe/Paris")
        for _ in range(count)
    ]
    case_open_many(cycle=world["cycle"], subjects=[{"subject_employee": p} for p in people], today=dt.date(2026, 10, 6))


def _pass_queries(when: str | dt.datetime) -> tuple[int, int]:
    """Statements of a planner pass other than its inserts (which go in batches of the database's size), and how
    many reminders it created."""
    now = at(when) if isinstance(when, str) else when
    with time_machine.travel(now, tick=False), CaptureQueriesContext(connection) as queries:
        created = reminders_plan().created
    return not_inserts(queries), len(created)


def test_the_planner_query_count_does_not_grow_with_the_number_of_cases(world, broker):
    small_queries, small_created = _pass_queries("2026-11-06 10:00")
    _open_more_cases(world, 60)
    with time_machine.travel(at("2026-11-13 10:00"), tick=False), CaptureQueriesContext(connection) as queries:
        large_created = reminders_plan().created

    assert not_inserts(queries) <= small_queries
    assert len([r for r in large_created if r.kind == DUE]) == 62
    assert small_created and small_queries <= 40


def test_a_pass_with_nothing_new_reads_and_writes_little(world, broker, django_assert_max_num_queries):
    reminders_plan(now=at("2026-11-06 10:00"))
    _open_more_cases(world, 30)
    with time_machine.travel(at("2026-11-06 10:00"), tick=False):
        reminders_plan()  # the new cases' reminders
    # In production each pass commits, writing its audit events; this test's transaction never commits, so
    # write the earlier passes' queued events now (a read of the trail does) to measure this pass alone.
    assert AuditEvent.objects.exists()

    # HR, their digest days, cycles, the chunk and its keys, CX, submissions, waiting items, escalated items, the
    # weekly digests' four.
    with django_assert_max_num_queries(14):
        assert reminders_plan(now=at("2026-11-06 10:05")).created == []


def test_keys_name_kind_object_recipient_and_occasion(world, plan):
    plan("2026-11-06 10:00")

    dana = world["dana"]
    assert f"evidence_due:case-{world['dana_case'].pk}:employee-{dana.pk}:d-14" in keys(kind=DUE)


def test_a_pass_writes_everything_due_in_small_transactions_and_hands_over_a_batch_soonest_first(
    world, broker, settings, django_capture_on_commit_callbacks
):
    settings.REMINDERS_PLAN_BATCH = 1
    settings.REMINDERS_PUBLISH_BATCH = 1

    with django_capture_on_commit_callbacks(execute=True):
        first = reminders_plan(now=at("2026-11-06 10:00"))

    assert {r.case_id for r in first.created if r.kind == DUE} == {world["dana_case"].pk, world["sam_case"].pk}
    assert first.published == 1 and broker.published == [first.created[0].pk]
    assert first.created[0].due_at == at("2026-11-06 10:00")  # due now, before Sam's New York morning
    assert reminders_plan(now=at("2026-11-06 10:05")).created == []


def test_each_reminder_the_planner_writes_has_its_create_event_with_every_field(world, plan):
    from apps.audit.constants import AuditAction
    from apps.audit.serialization import json_safe
    from apps.reminders.models import Reminder
    from tests.audit.helpers import events_of

    created = plan("2026-11-06 10:00")

    assert created
    for reminder in Reminder.objects.filter(pk__in=[r.pk for r in created]):
        (event,) = events_of(reminder)
        assert event.action == AuditAction.CREATE  # written by the audited bulk_create, in the pass's transaction
        # Personal values (address, name, text) are stored encrypted with their person's key (apps.audit.personal).
        assert reveal(event.object_repr) == str(reminder)
        revealed = reveal_changes(event.changes)
        for field in Reminder._meta.concrete_fields:
            assert revealed[field.name] == [None, json_safe(getattr(reminder, field.attname))], field.name


def test_one_pass_covers_every_case_of_a_cycle_larger_than_a_chunk(world, broker, settings):
    settings.REMINDERS_EVALUATE_BATCH = 2
    _open_more_cases(world, 7)  # nine open cases: five chunks

    created = reminders_plan(now=at("2026-11-13 10:00")).created

    assert len({r.case_id for r in created if r.kind == DUE}) == 9
    assert reminders_plan(now=at("2026-11-13 10:05")).created == []


def test_the_planners_reads_are_a_fixed_number_per_chunk_of_cases(world, settings, django_assert_max_num_queries):
    from apps.reminders.planner import plan_candidates

    settings.REMINDERS_EVALUATE_BATCH = 2
    _open_more_cases(world, 7)  # nine open cases: five chunks
    chunks = 5

    # Per chunk: its cases, their keys, six to evaluate; per pass: HR and their digest days, cycles, CX reviewers,
    # submissions, waiting items, escalated items, the weekly digests' four.
    with django_assert_max_num_queries(11 + 8 * chunks):
        planned = plan_candidates(now=at("2026-11-13 10:00"))

    assert len([p for p in planned if p.kind == DUE]) == 9


def test_review_steps_whose_moment_passed_long_ago_are_not_sent_late(world, plan):
    with time_machine.travel(at("2026-10-20 10:00"), tick=False):
        evidence = EvidenceFactory(owner=world["dana"], status="submitted")
        evidence.submitted_at = at("2026-10-20 10:00")
        evidence.save()

    plan("2026-11-06 10:00")  # waited 17 days: its waiting (3) and escalation (7) moments passed days ago

    assert not rows(evidence=evidence)
    assert not rows(kind=ReminderKind.REVIEW_WAITING) and not rows(kind=ReminderKind.ESCALATION)


def test_a_cycle_larger_than_a_chunk_is_escalated_whole_by_the_first_pass_after_its_deadline(world, broker, settings):
    settings.REMINDERS_EVALUATE_BATCH = 1  # two open cases: two chunks

    created = reminders_plan(now=at("2026-11-21 10:00")).created

    (escalation,) = [r for r in created if r.kind == ReminderKind.ESCALATION]
    (cycle,) = escalation.context["cycles"]
    assert cycle["short_count"] == 2
    assert [c["subject"] for c in cycle["cases"]] == ["Dana Okafor", "Sam Rivera"]


def test_the_owner_is_told_of_a_review_once_however_often_the_notice_is_written(world, submitted):
    from apps.evidence.services import evidence_verify
    from apps.reminders.services import reminders_drain_events, reminders_for_evidence_event

    with time_machine.travel(at("2026-11-03 10:00"), tick=False):
        evidence_verify(evidence=submitted, by=world["maya"].user)
        reminders_drain_events()  # the worker writes the queued event's notice
        again = reminders_for_evidence_event(evidence_id=submitted.pk, event="verified")  # the one-row insert

    (notice,) = rows(kind=ReminderKind.EVIDENCE_REVIEWED, evidence=submitted)
    assert notice.recipient_employee == world["dana"]
    assert again == []  # the key already exists: nothing new, nothing audited
    created = AuditEvent.objects.filter(object_type="reminders.reminder", object_id=str(notice.pk), action="create")
    assert created.count() == 1
