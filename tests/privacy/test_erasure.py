"""Erasure of an employee (with their login) on request: what it removes, what it keeps, when it refuses.

The PostgreSQL test is the issue's proof: after erasure `verify_audit` passes, a dump of the whole database holds
none of the person's name, e-mail, login or evidence texts, reports still count their decided case, and their
attachment is gone from storage.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.audit.checkpoints import write_checkpoint
from apps.audit.models import AuditEvent, PersonKey
from apps.audit.personal import ERASED, reveal
from apps.cases.constants import CaseStatus
from apps.cases.models import Case, PolicyException, StepRecord
from apps.evidence.models import Attachment, Evidence
from apps.privacy.erasure import erase_person, erasure_plan
from apps.privacy.models import LegalHold
from apps.privacy.persons import Person
from apps.reminders.models import Reminder
from apps.reports.filters import ReportFilters
from apps.reports.selectors import reports_get
from tests.factories.org import UserFactory
from tests.privacy.person_history import person_with_history, seal_all, staff

REASON = "Erasure request by e-mail of 3 March, identity checked by HR."


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _decided_cases() -> int:
    return reports_get(filters=ReportFilters(), today=timezone.localdate()).compliance.total.decided


def _sign_in(user: User) -> None:
    Client().force_login(user)


# ---------------------------------------------------------------------------------------------------- the proof


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_after_erasure_the_trail_verifies_no_table_holds_the_persons_texts_and_decided_cases_still_count(media):
    people = staff()
    person = person_with_history(people, prefix="zqa", number="E-7012")
    _sign_in(person.user)
    stored_file = person.attachment.file.path
    assert os.path.exists(stored_file)
    decided_before = _decided_cases()
    assert decided_before == 1
    seal_all()
    write_checkpoint(reason="test", force=True)

    report = erase_person(person=Person.for_employee(person.employee), by=people.hr, reason=REASON)
    seal_all()
    write_checkpoint(reason="test", force=True)

    call_command("verify_audit")  # a broken chain raises CommandError (exit 1)
    dump = subprocess.run(
        ["pg_dump", "--data-only", "-h", connection.settings_dict.get("HOST") or "127.0.0.1",
         "-p", str(connection.settings_dict.get("PORT") or 5432), "-U", connection.settings_dict["USER"],
         connection.settings_dict["NAME"]],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PGPASSWORD": connection.settings_dict.get("PASSWORD") or ""},
    ).stdout  # fmt: skip
    assert "erased-user" in dump  # the dump is the real one
    found = {what: marker for what, marker in person.markers.items() if marker in dump}
    lines = [line[:200] for line in dump.splitlines() if any(marker in line for marker in found.values())]
    assert not found, f"plain text of the erased person is still stored: {found}\n" + "\n".join(lines[:20])
    assert _decided_cases() == decided_before
    assert Case.objects.get(pk=person.case.pk).status in {CaseStatus.APPROVED, CaseStatus.APPROVED_WITH_EXCEPTION}
    assert not os.path.exists(stored_file)
    assert report.files_deleted == 1


# ---------------------------------------------------------------------------------------------------- what it does


@pytest.fixture
def people(db, media):
    return staff()


@pytest.fixture
def dana(people, django_capture_on_commit_callbacks):
    return person_with_history(people, prefix="dana", number="E-7012")


def test_erasure_pseudonymises_the_employee_and_closes_their_login(people, dana, django_capture_on_commit_callbacks):
    _sign_in(dana.user)
    with django_capture_on_commit_callbacks(execute=True):
        report = erase_person(person=Person.for_employee(dana.employee), by=people.hr, reason=REASON)

    employee = type(dana.employee).objects.get(pk=dana.employee.pk)
    user = User.objects.get(pk=dana.user.pk)
    assert employee.full_name == f"Erased person #{employee.pk}"
    assert str(employee) == f"Erased person #{employee.pk} (ERASED-{employee.pk})"
    assert not employee.active
    assert not user.is_active and not user.has_usable_password()
    assert dana.markers["login"] not in user.username
    assert not Session.objects.exists()
    assert not Token.objects.filter(user=user).exists()
    assert report.label == f"Erased person #{employee.pk} (ERASED-{employee.pk})"
    assert "Erased the personal data of Erased person" in report.summary()


def test_erasure_blanks_texts_about_the_person_and_keeps_the_decision(people, dana, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        erase_person(person=Person.for_employee(dana.employee), by=people.hr, reason=REASON)

    evidence = Evidence.objects.get(pk=dana.evidence.pk)
    assert evidence.title == f"Erased evidence #{evidence.pk}"
    assert (evidence.customer_quote, evidence.interpretation, evidence.response, evidence.review_comment) == (
        "",
        "",
        "",
        "",
    )
    assert evidence.status == "verified"
    case = Case.objects.get(pk=dana.case.pk)
    assert case.status in {CaseStatus.APPROVED, CaseStatus.APPROVED_WITH_EXCEPTION}
    assert case.frozen_evaluation is not None
    assert case.decision_note == ""
    exception = PolicyException.objects.get(case=case)
    assert (exception.justification, exception.decision_note, exception.status) == ("", "", "granted")
    assert all(record.comment == "" for record in StepRecord.objects.filter(case=case))
    assert all(a.note == "" for a in case.attestations.all())
    reminder = Reminder.objects.get(recipient_employee=dana.employee)
    assert (reminder.to_email, reminder.recipient_name, reminder.reason) == ("", "", "")
    assert not Attachment.objects.filter(pk=dana.attachment.pk).exists()


def test_the_trail_reads_erased_and_records_one_event_without_content(people, dana):
    before = AuditEvent.objects.filter(object_type="org.employee", object_id=str(dana.employee.pk)).first()

    erase_person(person=Person.for_employee(dana.employee), by=people.hr, reason=REASON)

    assert reveal(before.object_repr) == ERASED
    assert PersonKey.objects.get(person_type="org.employee", person_id=str(dana.employee.pk)).erased_at
    (event,) = AuditEvent.objects.filter(action="person_erased")
    assert event.context["reason_length"] == len(REASON)
    assert event.context["counts"]["evidence.evidence"] == 1
    text = str(event.context) + event.object_repr
    assert not any(marker in text for marker in dana.markers.values())
    assert REASON not in text


def test_the_plan_counts_what_will_be_erased_and_what_stays(people, dana):
    plan = erasure_plan(Person.for_employee(dana.employee), by=people.hr)

    assert plan.refusals == []
    assert plan.counts["evidence.evidence"] == 1
    assert plan.counts["org.employee"] == 1
    assert plan.files == 1
    assert plan.decided_cases == 1
    assert Evidence.objects.get(pk=dana.evidence.pk).title == dana.markers["title"]  # nothing changed


def test_a_login_without_an_employee_can_be_erased(people):
    contractor = UserFactory(username="contractor-zz", first_name="Zed", last_name="Contract")

    report = erase_person(person=Person.for_user(contractor), by=people.hr, reason=REASON)

    contractor.refresh_from_db()
    assert contractor.username == f"erased-user-{contractor.pk}"
    assert not contractor.is_active
    assert report.counts["auth.user"] == 1


# ---------------------------------------------------------------------------------------------------- refusals


def test_erasure_refuses_a_person_under_legal_hold(people, dana):
    LegalHold.objects.create(employee=dana.employee, reason="Claim 2026-17", placed_by=people.hr2)

    with pytest.raises(ValidationError, match="legal hold"):
        erase_person(person=Person.for_employee(dana.employee), by=people.hr, reason=REASON)
    assert Evidence.objects.get(pk=dana.evidence.pk).title == dana.markers["title"]


def test_erasure_refuses_a_person_with_an_open_case_and_names_it(people):
    from tests.privacy.person_history import person_with_history as build

    open_case = build(people, prefix="olga", number="E-7013", decide=False)

    with pytest.raises(ValidationError, match=r"1 open case: Promotions .* HR must decide or withdraw them first"):
        erase_person(person=Person.for_employee(open_case.employee), by=people.hr, reason=REASON)


def test_erasure_needs_the_permission(people, dana):
    with pytest.raises(PermissionDenied, match="permission"):
        erase_person(person=Person.for_employee(dana.employee), by=people.reviewer, reason=REASON)
    assert PersonKey.objects.filter(erased_at__isnull=False).count() == 0


def test_nobody_erases_themselves(people):
    hr_person = Person.for_user(people.hr)

    with pytest.raises(ValidationError, match="your own personal data"):
        erase_person(person=hr_person, by=people.hr, reason=REASON)


def test_erasure_needs_a_reason(people, dana):
    with pytest.raises(ValidationError) as error:
        erase_person(person=Person.for_employee(dana.employee), by=people.hr, reason="  ")
    assert "reason" in error.value.message_dict


def test_erase_person_command_dry_run_changes_nothing_and_the_real_run_erases(people, dana, capsys):
    call_command("erase_person", "--employee", "E-7012", "--by", people.hr.username, "--dry-run")
    out = capsys.readouterr().out
    assert "Dry run: nothing was erased" in out and "evidence" in out
    assert Evidence.objects.get(pk=dana.evidence.pk).title == dana.markers["title"]

    call_command("erase_person", "--employee", "E-7012", "--by", people.hr.username, "--reason", REASON)
    assert "Erased the personal data of Erased person" in capsys.readouterr().out
    assert Evidence.objects.get(pk=dana.evidence.pk).title.startswith("Erased evidence")


def test_erase_person_command_says_why_it_refuses(people, dana):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Nothing was erased: You do not have permission"):
        call_command("erase_person", "--employee", "E-7012", "--by", people.reviewer.username, "--reason", REASON)
    with pytest.raises(CommandError, match="No employee numbered"):
        call_command("erase_person", "--employee", "E-9999", "--by", people.hr.username, "--reason", REASON)


def test_the_demo_erases_one_person_who_left_and_leaves_everyone_busy_alone(people, dana):
    from apps.org.models import Employee
    from apps.privacy.demo_person import seed_erased_person
    from tests.factories.org import EmployeeFactory

    leaver = EmployeeFactory(full_name="Lena Left", org_unit=people.unit)

    line = seed_erased_person(employees=list(Employee.objects.order_by("pk")), by=people.hr)

    leaver.refresh_from_db()
    assert leaver.full_name == f"Erased person #{leaver.pk}"
    assert line.startswith(f"Privacy: Erased person #{leaver.pk}")
    assert Evidence.objects.get(pk=dana.evidence.pk).title == dana.markers["title"]
