"""seed_demo shows the HR workbench: attestations, exceptions under four eyes, a case ready for HR, refused attempts
on the trail, and notifications written by the real hooks once the seed commits."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from apps.audit.models import AuditEvent
from apps.audit.personal import reveal
from apps.audit.sealer import audit_seal_pending, unsealed_events
from apps.audit.selectors import audit_chain_verify
from apps.cases.constants import CaseAuditAction, CaseStatus, ExceptionStatus
from apps.cases.models import Attestation, Case, PolicyException, StepRecord
from apps.cases.services import case_exception_decide
from apps.reminders import outbox
from apps.reminders.constants import ReminderKind
from apps.reminders.selectors import notification_list, notification_unread_count
from apps.reports.hr_home import cases_ready_for_hr, needs_you

# Big enough for a front desk that plays every showcase the workbench needs, small enough to seed quickly.
EMPLOYEES = "40"


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """The rows are what the demo shows; their send tasks must not reach this session's broker folder."""
    monkeypatch.setattr(outbox, "publish", lambda reminder_ids, force=False: list(reminder_ids))
    monkeypatch.setattr(outbox, "publish_drain", lambda: None)


@pytest.fixture
def seeded(db, django_capture_on_commit_callbacks):
    """The demo company, with the callbacks its commit runs (the case hooks' notifications) executed."""
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--employees", EMPLOYEES)
    return {user.username: user for user in get_user_model().objects.all()}


def _unread(user, kind: str) -> list:  # type: ignore[no-untyped-def]
    return list(notification_list(user=user).filter(read_at__isnull=True, kind=kind))


def _panel(user) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {item.key: item.count for item in needs_you(user=user)}


def test_hr2s_needs_you_panel_counts_the_exception_hr_asked_for_and_hrs_does_not(seeded, client):
    waiting = PolicyException.objects.get(status=ExceptionStatus.REQUESTED)

    assert waiting.requested_by == seeded["hr"]
    assert len(waiting.justification.split()) >= 30 and waiting.waived_requirements.exists()
    assert not Case.objects.get(pk=waiting.case_id).compliant  # a short case: that is why it needs an exception
    assert _panel(seeded["hr2"])["exceptions"] == 1
    assert _panel(seeded["hr"])["exceptions"] == 0
    client.force_login(seeded["hr2"])
    assert "Exceptions waiting for a second HR" in client.get("/admin/").content.decode()


def test_hr_may_not_decide_the_exception_hr_requested_but_hr2_may(seeded):
    waiting = PolicyException.objects.get(status=ExceptionStatus.REQUESTED)

    with pytest.raises(PermissionDenied, match="Four eyes"):
        case_exception_decide(exception=waiting, by=seeded["hr"], grant=True, note="Mine.")
    decided = case_exception_decide(exception=waiting, by=seeded["hr2"], grant=True, note="Checked the shift logs.")

    assert decided.status == ExceptionStatus.GRANTED


def test_the_trail_shows_the_gate_refusing_hrs_approval_and_hr_refused_to_grant_their_own_exception(seeded):
    waiting = PolicyException.objects.get(status=ExceptionStatus.REQUESTED)
    refused = AuditEvent.objects.filter(object_type="cases.case", object_id=str(waiting.case_id))

    gate = refused.get(action=CaseAuditAction.CASE_DECISION_REFUSED)
    four_eyes = refused.get(action=CaseAuditAction.EXCEPTION_DECISION_REFUSED)
    assert reveal(gate.actor_name) == "hr" and "does not meet its policy" in gate.context["reason"]
    assert reveal(four_eyes.actor_name) == "hr" and "Four eyes" in four_eyes.context["reason"]


def test_a_manager_attestation_and_a_withdrawn_one_are_on_the_trail_with_the_managers_name(seeded):
    manager = seeded["manager"]
    attestation = Attestation.objects.filter(by=manager, role="manager").order_by("pk").first()
    withdrawn = AuditEvent.objects.get(action=CaseAuditAction.ATTESTATION_WITHDRAWN)

    assert attestation is not None and attestation.note
    assert AuditEvent.objects.filter(
        object_type="cases.attestation", object_id=str(attestation.pk), action="create", actor_user_id=manager.pk
    ).exists()
    assert withdrawn.actor_user_id == manager.pk and len(reveal(withdrawn.context["note"])) > 20
    case = Case.objects.get(pk=withdrawn.object_id)
    assert case.is_open and not case.attestations.exists()


def test_a_compliant_recommended_case_waits_for_hr_to_approve(seeded):
    ready = cases_ready_for_hr().filter(cycle__name__startswith="Promotions").get()

    assert StepRecord.objects.filter(case=ready, by=seeded["manager"], decision="approve").exists()
    assert _panel(seeded["hr"])["cases"] >= 1


def test_a_granted_exception_let_hr_approve_a_case_with_exception(seeded):
    case = Case.objects.get(status=CaseStatus.APPROVED_WITH_EXCEPTION)
    granted = case.exceptions.get(status=ExceptionStatus.GRANTED)

    assert granted.decided_by == seeded["hr2"] and granted.requested_by != seeded["hr2"]
    assert case.decided_by == seeded["hr"]


def test_every_hiring_case_names_its_candidate_by_email(seeded):
    hiring = Case.objects.filter(cycle__ritual_type__code="hiring")

    assert hiring.exists()
    assert not hiring.filter(candidate_email="").exists()


def test_dana_has_an_unread_notice_that_her_evidence_was_reviewed_and_sees_it_in_the_portal(seeded, client):
    dana = seeded["dana"]
    (notice,) = _unread(dana, ReminderKind.EVIDENCE_REVIEWED)

    assert notice.evidence is not None and notice.evidence.reviewer == seeded["manager"]
    assert notification_unread_count(user=dana) >= 1
    client.force_login(dana)
    assert notice.reason in client.get("/me/notifications/").content.decode()


def test_the_manager_hears_a_step_waits_and_hr2_an_exception_waits_but_hr_does_not(seeded):
    (step,) = _unread(seeded["manager"], ReminderKind.STEP_WAITING)
    (exception,) = _unread(seeded["hr2"], ReminderKind.EXCEPTION_WAITING)

    assert "Manager recommends" in step.reason
    assert exception.context["requested_by"]
    assert _unread(seeded["hr"], ReminderKind.EXCEPTION_WAITING) == []


@pytest.mark.django_db(transaction=True)
def test_seed_demo_commits_notifications_prints_the_workbench_and_leaves_the_trail_whole(capsys):
    # Committed for real: the case hooks run when seed_demo's transaction commits, as on a first `make run`.
    call_command("seed_demo", "--employees", EMPLOYEES)

    out = capsys.readouterr().out
    assert "Workbench: 1 exception waiting for a second HR (hr asked, hr2 decides)" in out
    assert "1 withdrawn with a note" in out and "2 refused attempts on the audit trail" in out
    assert "(1 evidence reviewed)" in out
    assert "manager" in out and "(1 approval step waiting)" in out and "(1 exception waiting)" in out
    users = {user.username: user for user in get_user_model().objects.all()}
    assert _unread(users["hr2"], ReminderKind.EXCEPTION_WAITING)
    assert _unread(users["manager"], ReminderKind.STEP_WAITING)
    # A writing transaction elsewhere in the cluster (another test run) can hold the sealing horizon back a moment.
    deadline = time.monotonic() + 30
    while unsealed_events().exists() and time.monotonic() < deadline:
        audit_seal_pending()
        time.sleep(0.1)
    report = audit_chain_verify()
    assert report.intact and report.unsealed == 0
    assert "a signed checkpoint of head" in out
    call_command("verify_audit")  # the chain and the checkpoint seed_demo wrote agree: no CommandError


def test_the_seeded_trail_verifies_once_sealed(seeded):
    audit_seal_pending()  # the hooks' notifications were written after seed_demo sealed

    report = audit_chain_verify()
    assert report.intact and report.unsealed == 0 and report.count > 0
