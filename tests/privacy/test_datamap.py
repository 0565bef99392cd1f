"""The data map classifies every field of every model that can hold personal data, names only what exists, says
what erasure stores, finds a person's rows, and is the record of processing in docs/privacy.md."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import is_password_usable
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.cases.models import Case
from apps.privacy.datamap import (
    DATA_MAP,
    Category,
    Entry,
    Erase,
    Field,
    Subject,
    entry_for,
    erased_values,
    mapped_models,
    render_markdown,
    unclassified_fields,
    unknown_names,
)
from apps.privacy.datamap.render import BEGIN, END
from apps.privacy.persons import Person, rows_for
from apps.reminders.models import Reminder
from tests.factories.cases import CandidateCaseFactory, CycleFactory, PolicyExceptionFactory
from tests.factories.evidence import AttachmentFactory, EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory
from tests.factories.reminders import ReminderFactory

DOC = Path(settings.BASE_DIR) / "docs" / "privacy.md"


def _without_field(label: str, name: str) -> tuple[Entry, ...]:
    return tuple(
        dataclasses.replace(e, fields=tuple(f for f in e.fields if f.name != name)) if e.model == label else e
        for e in DATA_MAP
    )


# ----------------------------------------------------------------------------------------------- kept true


def test_every_concrete_field_of_every_mapped_model_is_classified():
    assert unclassified_fields() == [], "Classify these fields in apps/privacy/datamap/ (see docs/privacy.md)."


def test_the_map_names_only_models_fields_and_lookups_that_exist():
    assert unknown_names() == []


def test_the_map_covers_the_product_and_the_framework_tables_that_hold_peoples_data():
    labels = {model._meta.label_lower for model in mapped_models()}

    assert {"org.employee", "evidence.evidence", "cases.case", "reminders.reminder"} <= labels
    assert {"auth.user", "auth.group", "admin.logentry", "sessions.session", "authtoken.token"} <= labels
    assert {"axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"} <= labels
    assert all(entry_for(model) is not None for model in mapped_models())


def test_a_field_missing_from_the_map_is_named():
    assert unclassified_fields(_without_field("org.employee", "full_name")) == ["org.employee.full_name"]


def test_a_field_or_model_the_map_names_but_that_does_not_exist_is_named():
    ghost = Field("nickname", Category.IDENTITY, Erase.BLANK)
    employee = entry_for("org.employee")
    assert employee is not None
    entries = (
        dataclasses.replace(employee, fields=(*employee.fields, ghost)),
        dataclasses.replace(employee, model="org.ghost"),
        dataclasses.replace(employee, model="org.employee", subjects=(Subject("employee", "mentor"),)),
    )

    problems = unknown_names(entries)

    assert "org.employee.nickname: no such concrete field." in problems
    assert "org.ghost: no such model." in problems
    assert any("'mentor'" in problem for problem in problems)
    assert "org.employee: mapped twice." in problems


def test_a_classification_a_field_cannot_take_is_refused():
    evidence = entry_for("evidence.evidence")
    assert evidence is not None
    wrong = dataclasses.replace(
        evidence,
        fields=tuple(
            dataclasses.replace(f, erase=Erase.BLANK) if f.name == "impact_date" else f for f in evidence.fields
        ),
    )

    assert unknown_names((wrong,)) == [
        "evidence.evidence.impact_date: cannot be blanked (not nullable, no default, not text)."
    ]


def test_every_personal_entry_says_whom_it_is_about_and_every_entry_why_and_how_long():
    for entry in DATA_MAP:
        assert entry.purpose and entry.legal_basis and entry.retention, entry.model
    assert entry_for("sessions.session").subjects == ()  # type: ignore[union-attr]
    assert [s.lookup for s in entry_for("evidence.evidence").subjects] == ["owner"]  # type: ignore[union-attr]


def test_docs_privacy_md_is_the_generated_map():
    document = DOC.read_text(encoding="utf-8")
    start, end = document.index(BEGIN), document.index(END) + len(END)

    assert document[start:end] + "\n" == render_markdown(), "Run: manage.py privacy_datamap --write docs/privacy.md"
    assert "## Access, erasure and retention" in document


def test_the_command_checks_writes_and_prints_the_map(tmp_path, capsys):
    page = tmp_path / "privacy.md"
    page.write_text(f"# Intro\n\n{BEGIN}\nold tables\n{END}\n\nAfter.\n", encoding="utf-8")

    with pytest.raises(CommandError, match="out of date with the data map"):
        call_command("privacy_datamap", check=str(page))
    call_command("privacy_datamap", write=str(page))
    call_command("privacy_datamap", check=str(page))

    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Intro\n") and text.endswith("\n\nAfter.\n") and "old tables" not in text
    assert "### `org.employee`" in text
    capsys.readouterr()
    call_command("privacy_datamap")
    assert "### `cases.case`" in capsys.readouterr().out


def test_the_command_explains_a_document_without_markers_or_missing(tmp_path):
    page = tmp_path / "privacy.md"
    page.write_text("# No markers\n", encoding="utf-8")

    with pytest.raises(CommandError, match="no generated section"):
        call_command("privacy_datamap", write=str(page))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("privacy_datamap", check=str(tmp_path / "missing.md"))


# ---------------------------------------------------------------------------------------------- erased values


@pytest.mark.django_db
def test_erasing_an_employee_pseudonymises_identity_and_keeps_what_counts():
    employee = EmployeeFactory(full_name="Ada Lovelace", timezone="Europe/London")

    values = erased_values(entry_for("org.employee"), employee)  # type: ignore[arg-type]

    assert values == {
        "employee_number": f"ERASED-{employee.pk}",
        "full_name": f"Erased person #{employee.pk}",
        "email": f"erased-{employee.pk}@erased.invalid",
        "timezone": "UTC",
    }


@pytest.mark.django_db
def test_erasing_evidence_blanks_texts_and_leaves_the_file_to_the_caller():
    evidence = EvidenceFactory(review_comment="Great work with ACME")
    attachment = AttachmentFactory(evidence=evidence)

    values = erased_values(entry_for("evidence.evidence"), evidence)  # type: ignore[arg-type]
    attached = erased_values(entry_for("evidence.attachment"), attachment)  # type: ignore[arg-type]

    assert values["title"] == f"Erased evidence #{evidence.pk}"
    assert values["review_comment"] == "" and values["customer_quote"] == ""
    assert "impact_date" not in values and "gaming_flags" not in values
    assert attached == {"original_name": ""}  # the file is the caller's to delete


@pytest.mark.django_db
def test_erasing_a_candidate_keeps_the_case_valid_and_an_employees_case_has_no_candidate_to_erase():
    candidate_case = CandidateCaseFactory(decision_note="Not enough customer focus")
    employee_case = _employee_case(EmployeeFactory())
    entry = entry_for("cases.case")
    assert entry is not None

    assert erased_values(entry, candidate_case) == {
        "candidate_name": f"Erased person #{candidate_case.pk}",
        "candidate_email": "",
        "decision_note": "",
    }
    assert erased_values(entry, employee_case) == {}  # nothing written about them yet


@pytest.mark.django_db
def test_erasing_a_user_leaves_no_usable_password_and_one_subject_can_be_chosen():
    user = UserFactory(username="ada", first_name="Ada", last_name="King", email="ada@example.com")
    user.last_login = timezone.now()
    reminder = ReminderFactory()
    entry = entry_for("reminders.reminder")
    assert entry is not None

    values = erased_values(entry_for("auth.user"), user)  # type: ignore[arg-type]
    recipient_only = erased_values(entry, reminder, subject=entry.subjects[0])

    assert values["username"] == f"erased-user-{user.pk}" and values["email"] == ""
    assert (values["first_name"], values["last_name"]) == ("Erased", f"person #{user.pk}")
    assert values["last_login"] is None and not is_password_usable(values["password"])
    assert set(recipient_only) == {"to_email", "recipient_name", "recipient_timezone"}  # last_error is empty
    assert erased_values(entry, reminder)["context"] == {}


# --------------------------------------------------------------------------------------------------- persons


def _employee_case(employee):  # type: ignore[no-untyped-def]
    return Case.objects.create(
        cycle=CycleFactory(),
        subject_employee=employee,
        policy_unit=employee.org_unit,
        opened_at=timezone.now(),
        opened_on=timezone.localdate(),
    )


@pytest.mark.django_db
def test_a_persons_keys_are_their_employee_user_and_candidate_cases():
    user = UserFactory()
    employee = EmployeeFactory(user=user)
    first, second = CandidateCaseFactory(candidate_email="Amara@Example.net"), CandidateCaseFactory()
    Case.objects.filter(pk=second.pk).audited_update(candidate_email="amara@example.net")

    assert Person.for_employee(employee).key_ids == [("org.employee", str(employee.pk)), ("auth.user", str(user.pk))]
    assert Person.for_user(user) == Person.for_employee(employee)
    assert Person.for_candidate("amara@example.net").key_ids == [
        ("cases.case", str(first.pk)),
        ("cases.case", str(second.pk)),
    ]
    assert Person.for_employee(employee).label == str(employee)
    assert Person.for_user(UserFactory(username="solo")).label == "solo"


@pytest.mark.django_db
def test_rows_for_finds_a_persons_rows_through_every_subject_and_nobody_elses():
    ada, other = EmployeeFactory(), EmployeeFactory()
    case = _employee_case(ada)
    to_ada = ReminderFactory(recipient_employee=ada)
    about_ada = ReminderFactory(recipient_employee=other, case=case)  # sent to her manager, about her case
    ReminderFactory(recipient_employee=other)
    exception = PolicyExceptionFactory(case=case)
    PolicyExceptionFactory()

    reminders = rows_for(entry_for("reminders.reminder"), Person.for_employee(ada))  # type: ignore[arg-type]
    exceptions = rows_for(entry_for("cases.policyexception"), Person.for_employee(ada))  # type: ignore[arg-type]

    assert list(reminders) == sorted([to_ada, about_ada], key=lambda r: r.pk)
    assert list(exceptions) == [exception]
    assert not rows_for(entry_for("org.orgunit"), Person.for_employee(ada)).exists()  # type: ignore[arg-type]


@pytest.mark.django_db
def test_rows_for_finds_a_candidates_hiring_case_and_what_is_written_about_them():
    case = CandidateCaseFactory(candidate_email="amara@example.net")
    exception = PolicyExceptionFactory(case=case)
    PolicyExceptionFactory()
    amara = Person.for_candidate("AMARA@example.net")

    assert list(rows_for(entry_for("cases.case"), amara)) == [case]  # type: ignore[arg-type]
    assert list(rows_for(entry_for("cases.policyexception"), amara)) == [exception]  # type: ignore[arg-type]
    assert not rows_for(entry_for("cases.case"), Person.for_candidate("")).exists()  # type: ignore[arg-type]


@pytest.mark.django_db
def test_every_entrys_lookups_run_for_every_kind_of_person():
    user = UserFactory()
    people = [Person.for_employee(EmployeeFactory(user=user)), Person.for_candidate("someone@example.com")]

    for entry in DATA_MAP:
        for person in people:
            assert rows_for(entry, person).count() >= 0, entry.model
    assert list(rows_for(entry_for("auth.user"), people[0])) == [user]  # type: ignore[arg-type]
    assert Reminder.objects.count() == 0
