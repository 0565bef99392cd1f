"""Retention: the dry run lists exactly what the run removes, a day younger stays, a legal hold keeps it, every
removal is audited without its content, erased candidates stay counted; the beat task and the command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.cases.constants import CaseStatus
from apps.cases.models import Attestation, Case, PolicyException, StepRecord
from apps.evidence.models import Attachment
from apps.privacy.constants import PrivacyAuditAction, RetentionKind
from apps.privacy.models import CandidateErasure, LegalHold, RetentionRule
from apps.privacy.retention import apply_retention, plan_retention, upcoming
from apps.privacy.tasks import retention_run
from apps.reminders.constants import ReminderStatus
from apps.reminders.models import Reminder
from tests.factories.cases import (
    AttestationFactory,
    CandidateCaseFactory,
    CaseEvidenceFactory,
    PolicyExceptionFactory,
    StepRecordFactory,
)
from tests.factories.evidence import AttachmentFactory, EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory
from tests.factories.reminders import ReminderFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 7)
CANDIDATE = "Zelda Quintero-Hargreave"
CANDIDATE_EMAIL = "zelda.qh@example.org"


def at(day: dt.date) -> dt.datetime:
    """Noon of `day` in the site's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def keep(kind: str) -> int:
    return RetentionRule.objects.get(kind=kind).keep_days


def candidate_case(status: str = CaseStatus.REJECTED, *, decided_days_ago: int, **extra) -> Case:
    """A hiring case decided `decided_days_ago` days before TODAY, with text about the candidate everywhere."""
    case = CandidateCaseFactory(
        candidate_name=extra.pop("candidate_name", CANDIDATE),
        candidate_email=extra.pop("candidate_email", CANDIDATE_EMAIL),
        status=status,
        decided_at=at(TODAY - dt.timedelta(days=decided_days_ago)),
        decision_note=f"{CANDIDATE} lacked customer stories.",
        **extra,
    )
    StepRecordFactory(case=case, comment=f"Spoke with {CANDIDATE}'s references.")
    AttestationFactory(case=case, note=f"HR checked {CANDIDATE}.")
    PolicyExceptionFactory(case=case, status="refused", justification=f"{CANDIDATE} ran a support desk before.")
    return case


def old_case(status: str = CaseStatus.APPROVED, *, decided_days_ago: int, **extra) -> Case:
    """An employee's case decided `decided_days_ago` days before TODAY (a case with links, steps and an exception)."""
    from tests.factories.cases import CycleFactory

    subject = extra.pop("subject_employee", None) or EmployeeFactory()
    case = Case.objects.create(
        cycle=CycleFactory(),
        subject_employee=subject,
        policy_unit=subject.org_unit,
        opened_at=at(TODAY - dt.timedelta(days=decided_days_ago + 30)),
        opened_on=TODAY - dt.timedelta(days=decided_days_ago + 30),
        status=status,
        decided_at=at(TODAY - dt.timedelta(days=decided_days_ago)),
    )
    StepRecordFactory(case=case)
    AttestationFactory(case=case)
    PolicyExceptionFactory(case=case, status="granted")
    CaseEvidenceFactory(case=case, evidence=EvidenceFactory(owner=subject))
    return case


def leaver(left_days_ago: int):
    return EmployeeFactory(active=False, left_on=TODAY - dt.timedelta(days=left_days_ago))


def finished_reminder(days_ago: int, status: str = ReminderStatus.SENT, **extra) -> Reminder:
    reminder = ReminderFactory(status=status, **extra)
    Reminder.objects.filter(pk=reminder.pk).audited_update(updated_at=at(TODAY - dt.timedelta(days=days_ago)))
    return Reminder.objects.get(pk=reminder.pk)


def keys(items) -> set[tuple[str, str, int]]:
    return {item.key for item in items}


def due_keys(kind: str) -> set[tuple[str, str, int]]:
    return {item.key for item in plan_retention(TODAY) if item.kind == kind and item.removable}


# ---------------------------------------------------------------------------------------------------- defaults


def test_default_rules_exist_for_every_kind_with_a_reason():
    rules = {rule.kind: rule for rule in RetentionRule.objects.all()}
    assert set(rules) == set(RetentionKind.values)
    assert rules[RetentionKind.REJECTED_CANDIDATES].keep_days == 180
    assert rules[RetentionKind.HIRED_CANDIDATES].keep_days == 365
    assert rules[RetentionKind.LEAVER_ATTACHMENTS].keep_days == 365
    assert rules[RetentionKind.REMINDER_LOGS].keep_days == 400
    assert rules[RetentionKind.DECIDED_CASES].keep_days == 2190
    assert all(rule.enabled and rule.note for rule in rules.values())


# ---------------------------------------------------------------------------------------------------- candidates


def test_rejected_candidate_is_due_the_day_the_period_ends_and_a_day_younger_stays():
    days = keep(RetentionKind.REJECTED_CANDIDATES)
    due = candidate_case(decided_days_ago=days)
    younger = candidate_case(decided_days_ago=days - 1, candidate_email="other@example.org")
    plan = due_keys(RetentionKind.REJECTED_CANDIDATES)
    assert plan == {(RetentionKind.REJECTED_CANDIDATES, "cases.case", due.pk)}
    [item] = [i for i in plan_retention(TODAY) if i.object_id == due.pk and i.kind == RetentionKind.REJECTED_CANDIDATES]
    assert item.due_on == TODAY
    assert CANDIDATE not in item.label and f"Case #{due.pk}" in item.label and "rejected" in item.label
    assert younger.pk in {i.object_id for i in upcoming(TODAY, 30)}


def test_candidate_run_erases_exactly_what_the_dry_run_listed(django_capture_on_commit_callbacks):
    days = keep(RetentionKind.REJECTED_CANDIDATES)
    case = candidate_case(decided_days_ago=days + 3)
    kept = candidate_case(decided_days_ago=days - 1, candidate_email="other@example.org")
    attachment = AttachmentFactory(evidence=CaseEvidenceFactory(case=case).evidence)
    stored = attachment.file.name
    dry = apply_retention(TODAY, dry_run=True)
    with django_capture_on_commit_callbacks(execute=True):
        run = apply_retention(TODAY, dry_run=False)
    assert keys(run.removed) == keys(dry.removed) == {(RetentionKind.REJECTED_CANDIDATES, "cases.case", case.pk)}
    case.refresh_from_db()
    assert case.candidate_name == f"Erased candidate #{case.pk}"
    assert case.candidate_email == f"erased-candidate-{case.pk}@erased.invalid" and case.decision_note == ""
    assert case.status == CaseStatus.REJECTED  # still counted by reports
    assert StepRecord.objects.get(case=case).comment == ""
    assert Attestation.objects.get(case=case).note == ""
    assert PolicyException.objects.get(case=case).justification == ""
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not default_storage.exists(stored)
    assert CandidateErasure.objects.filter(case=case).exists()
    kept.refresh_from_db()
    assert kept.candidate_name == CANDIDATE
    # A second run finds nothing more to do.
    assert apply_retention(TODAY, dry_run=False).total == 0


def test_hired_candidates_count_from_their_own_period():
    days = keep(RetentionKind.HIRED_CANDIDATES)
    hired = candidate_case(CaseStatus.APPROVED, decided_days_ago=days)
    candidate_case(CaseStatus.APPROVED, decided_days_ago=days - 1, candidate_email="b@example.org")
    assert due_keys(RetentionKind.HIRED_CANDIDATES) == {(RetentionKind.HIRED_CANDIDATES, "cases.case", hired.pk)}
    assert due_keys(RetentionKind.REJECTED_CANDIDATES) == set()


def test_erased_candidate_case_stays_counted_among_decided_cases():
    case = candidate_case(decided_days_ago=keep(RetentionKind.REJECTED_CANDIDATES) + 1)
    before = Case.objects.decided().filter(cycle=case.cycle).count()
    apply_retention(TODAY, dry_run=False)
    assert Case.objects.decided().filter(cycle=case.cycle).count() == before == 1


def test_no_audit_event_keeps_the_candidates_name_in_plain_text_after_the_run():
    case = candidate_case(decided_days_ago=keep(RetentionKind.REJECTED_CANDIDATES) + 1)
    apply_retention(TODAY, dry_run=False)
    removed = AuditEvent.objects.get(action=PrivacyAuditAction.RETENTION_REMOVED, object_id=str(case.pk))
    assert removed.context["kind"] == RetentionKind.REJECTED_CANDIDATES
    assert removed.context["rule"] == RetentionRule.objects.get(kind=RetentionKind.REJECTED_CANDIDATES).pk
    for event in AuditEvent.objects.all():
        text = f"{event.object_repr} {event.actor_name} {event.changes} {event.context}"
        assert CANDIDATE not in text and CANDIDATE_EMAIL not in text, event.action


# ---------------------------------------------------------------------------------------------------- holds


def test_a_hold_on_the_case_keeps_the_candidate_and_the_plan_says_which_hold():
    case = candidate_case(decided_days_ago=keep(RetentionKind.REJECTED_CANDIDATES) + 1)
    hold = LegalHold.objects.create(case=case, reason="Claim 2026-17", placed_by=UserFactory())
    [item] = [i for i in plan_retention(TODAY) if i.object_id == case.pk]
    assert item.held_by == hold.pk and not item.removable
    run = apply_retention(TODAY, dry_run=False)
    assert run.total == 0 and keys(run.held) == {item.key}
    case.refresh_from_db()
    assert case.candidate_name == CANDIDATE


def test_a_released_hold_keeps_nothing():
    case = candidate_case(decided_days_ago=keep(RetentionKind.REJECTED_CANDIDATES) + 1)
    LegalHold.objects.create(case=case, reason="Claim", placed_by=UserFactory(), released_at=timezone.now())
    assert apply_retention(TODAY, dry_run=False).total == 1


def test_a_hold_on_the_person_keeps_their_decided_cases_reminders_and_leaver_files():
    person = leaver(keep(RetentionKind.LEAVER_ATTACHMENTS) + 1)
    case = old_case(decided_days_ago=keep(RetentionKind.DECIDED_CASES) + 1, subject_employee=person)
    attachment = AttachmentFactory(evidence=EvidenceFactory(owner=person))
    reminder = finished_reminder(keep(RetentionKind.REMINDER_LOGS) + 1, recipient_employee=person)
    hold = LegalHold.objects.create(employee=person, reason="Tribunal case 44", placed_by=UserFactory())
    plan = plan_retention(TODAY)
    held = {(i.object_type, i.object_id): i.held_by for i in plan}
    assert held[("cases.case", case.pk)] == hold.pk
    assert held[("evidence.attachment", attachment.pk)] == hold.pk
    assert held[("reminders.reminder", reminder.pk)] == hold.pk
    assert apply_retention(TODAY, dry_run=False).total == 0
    assert Case.objects.filter(pk=case.pk).exists() and Attachment.objects.filter(pk=attachment.pk).exists()


def test_a_hold_placed_after_the_plan_is_still_respected_by_each_batch():
    from apps.privacy.retention.apply import REMOVERS
    from apps.privacy.retention.plan import Holds

    case = candidate_case(decided_days_ago=keep(RetentionKind.REJECTED_CANDIDATES) + 1)
    person = leaver(keep(RetentionKind.LEAVER_ATTACHMENTS) + 1)
    AttachmentFactory(evidence=EvidenceFactory(owner=person))
    planned = [item for item in plan_retention(TODAY) if item.removable]
    assert len(planned) == 2
    LegalHold.objects.create(case=case, reason="Claim", placed_by=UserFactory())
    LegalHold.objects.create(employee=person, reason="Claim", placed_by=UserFactory())
    for item in planned:
        assert REMOVERS[item.kind]([item], Holds.load(), None) == []
    case.refresh_from_db()
    assert case.candidate_name == CANDIDATE


# ---------------------------------------------------------------------------------------------------- leavers


def test_leaver_attachments_go_with_their_files_a_day_younger_stays(django_capture_on_commit_callbacks):
    days = keep(RetentionKind.LEAVER_ATTACHMENTS)
    gone = AttachmentFactory(evidence=EvidenceFactory(owner=leaver(days)))
    stays = AttachmentFactory(evidence=EvidenceFactory(owner=leaver(days - 1)))
    current = AttachmentFactory()  # an employee still here
    name = gone.file.name
    expected = {(RetentionKind.LEAVER_ATTACHMENTS, "evidence.attachment", gone.pk)}
    assert due_keys(RetentionKind.LEAVER_ATTACHMENTS) == expected
    with django_capture_on_commit_callbacks(execute=True):
        run = apply_retention(TODAY, dry_run=False)
    assert keys(run.removed) == expected
    assert not Attachment.objects.filter(pk=gone.pk).exists() and not default_storage.exists(name)
    assert Attachment.objects.filter(pk__in=[stays.pk, current.pk]).count() == 2
    assert default_storage.exists(stays.file.name)


def test_left_on_is_set_when_a_person_leaves_and_cleared_when_they_return():
    person = EmployeeFactory()
    assert person.left_on is None
    person.active = False
    person.save(update_fields=["active", "updated_at"])
    person.refresh_from_db()
    assert person.left_on == timezone.localdate()
    person.active = True
    person.save()
    person.refresh_from_db()
    assert person.left_on is None


# ---------------------------------------------------------------------------------------------------- reminders


def test_finished_reminders_are_deleted_after_their_period_pending_ones_never():
    days = keep(RetentionKind.REMINDER_LOGS)
    sent = finished_reminder(days)
    failed = finished_reminder(days + 5, ReminderStatus.FAILED)
    cancelled = finished_reminder(days + 5, ReminderStatus.CANCELLED)
    younger = finished_reminder(days - 1)
    pending = finished_reminder(days + 50, ReminderStatus.PENDING)
    expected = {(RetentionKind.REMINDER_LOGS, "reminders.reminder", r.pk) for r in (sent, failed, cancelled)}
    assert due_keys(RetentionKind.REMINDER_LOGS) == expected
    run = apply_retention(TODAY, dry_run=False)
    assert keys(run.removed) == expected
    assert set(Reminder.objects.values_list("pk", flat=True)) == {younger.pk, pending.pk}


# ---------------------------------------------------------------------------------------------------- decided cases


def test_decided_cases_are_deleted_with_their_children_and_reminders_keep_working():
    days = keep(RetentionKind.DECIDED_CASES)
    case = old_case(decided_days_ago=days)
    younger = old_case(decided_days_ago=days - 1)
    reminder = ReminderFactory(case=case, status=ReminderStatus.SENT)
    expected = {(RetentionKind.DECIDED_CASES, "cases.case", case.pk)}
    assert due_keys(RetentionKind.DECIDED_CASES) == expected
    run = apply_retention(TODAY, dry_run=False)
    assert keys(run.removed) == expected
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not PolicyException.objects.filter(case_id=case.pk).exists()
    assert not StepRecord.objects.filter(case_id=case.pk).exists()
    assert Case.objects.filter(pk=younger.pk).exists()
    reminder.refresh_from_db()
    assert reminder.case_id is None
    event = AuditEvent.objects.get(action=PrivacyAuditAction.RETENTION_REMOVED, object_id=str(case.pk))
    assert event.object_type == "cases.case" and event.context["kind"] == RetentionKind.DECIDED_CASES


def test_a_case_with_a_released_hold_can_still_be_removed():
    case = old_case(decided_days_ago=keep(RetentionKind.DECIDED_CASES) + 1)
    hold = LegalHold.objects.create(case=case, reason="Old claim", placed_by=UserFactory(), released_at=timezone.now())
    assert apply_retention(TODAY, dry_run=False).total == 1
    hold.refresh_from_db()
    assert hold.case_id is None and "removed" in hold.target_label


def test_a_disabled_rule_lists_but_removes_nothing():
    case = old_case(decided_days_ago=keep(RetentionKind.DECIDED_CASES) + 1)
    rule = RetentionRule.objects.get(kind=RetentionKind.DECIDED_CASES)
    rule.enabled = False
    rule.save()
    run = apply_retention(TODAY, dry_run=False)
    assert run.total == 0 and [i.object_id for i in run.disabled] == [case.pk]
    assert Case.objects.filter(pk=case.pk).exists()


# ---------------------------------------------------------------------------------------------------- all kinds


def test_every_kind_at_once_the_run_removes_exactly_the_dry_runs_items():
    candidate_case(decided_days_ago=keep(RetentionKind.REJECTED_CANDIDATES) + 1)
    candidate_case(CaseStatus.APPROVED, decided_days_ago=keep(RetentionKind.HIRED_CANDIDATES) + 1,
                   candidate_email="h@example.org")  # fmt: skip
    AttachmentFactory(evidence=EvidenceFactory(owner=leaver(keep(RetentionKind.LEAVER_ATTACHMENTS) + 2)))
    finished_reminder(keep(RetentionKind.REMINDER_LOGS) + 3)
    old_case(decided_days_ago=keep(RetentionKind.DECIDED_CASES) + 4)
    dry = apply_retention(TODAY, dry_run=True)
    assert set(dry.counts.values()) == {1}
    run = apply_retention(TODAY, dry_run=False, batch_size=1)
    assert keys(run.removed) == keys(dry.removed)
    assert AuditEvent.objects.filter(action=PrivacyAuditAction.RETENTION_REMOVED).count() == 5
    summary = AuditEvent.objects.get(action=PrivacyAuditAction.RETENTION_RUN)
    assert summary.context["removed"] == dry.counts


def test_upcoming_lists_what_becomes_due_soon_with_its_date():
    days = keep(RetentionKind.DECIDED_CASES)
    case = old_case(decided_days_ago=days - 10)
    soon = {i.object_id: i.due_on for i in upcoming(TODAY, 30) if i.kind == RetentionKind.DECIDED_CASES}
    assert soon == {case.pk: TODAY + dt.timedelta(days=10)}
    assert case.pk not in {i.object_id for i in upcoming(TODAY, 5)}


# ---------------------------------------------------------------------------------------------------- task, command


def test_beat_task_runs_retention_for_today(time_machine):
    time_machine.move_to(at(TODAY))
    case = old_case(decided_days_ago=keep(RetentionKind.DECIDED_CASES) + 1)
    counts = retention_run.apply().get()
    assert counts[RetentionKind.DECIDED_CASES] == 1
    assert not Case.objects.filter(pk=case.pk).exists()


def test_command_dry_run_prints_the_plan_and_changes_nothing():
    case = old_case(decided_days_ago=keep(RetentionKind.DECIDED_CASES) + 1)
    out = StringIO()
    call_command("apply_retention", "--dry-run", "--date", TODAY.isoformat(), stdout=out)
    assert f"Case #{case.pk}" in out.getvalue() and "Would remove 1 item" in out.getvalue()
    assert Case.objects.filter(pk=case.pk).exists()
    out = StringIO()
    call_command("apply_retention", "--date", TODAY.isoformat(), stdout=out)
    assert "Removed 1 item" in out.getvalue()
    assert not Case.objects.filter(pk=case.pk).exists()


def test_command_refuses_a_bad_date_with_a_message():
    with pytest.raises(CommandError, match="not a date"):
        call_command("apply_retention", "--date", "31/12/2026")


def test_command_exits_1_on_a_bad_date(capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "apply_retention", "--date", "yesterday"]).execute()
    assert exit_info.value.code == 1
    assert "YYYY-MM-DD" in capsys.readouterr().err
