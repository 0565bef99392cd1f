"""The audit trail stores every personal value of the data map encrypted with the key of the person it is about, so
erasing that person makes exactly their values unreadable while the chain still verifies."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent
from apps.audit.personal import ERASED, is_encrypted, person_erase, reveal, reveal_changes
from apps.audit.registry import personal_fields
from apps.audit.sealer import audit_seal_pending
from apps.audit.selectors import audit_chain_verify
from apps.cases.models import Case
from apps.privacy.datamap import entry_for
from apps.privacy.datamap.audit import registrations_for
from tests.audit.helpers import events_of
from tests.factories.cases import CandidateCaseFactory, CycleFactory, PolicyExceptionFactory
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory
from tests.factories.reminders import ReminderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo():
    return UserFactory(username="dpo", is_staff=True, is_superuser=True)


def _stored(event: AuditEvent) -> str:
    row = AuditEvent.objects.filter(pk=event.pk).values("object_repr", "changes", "actor_name", "context").get()
    return json.dumps(row, ensure_ascii=False)


def _key_id(value: str) -> str:
    return value.split(":")[2]


def _employee_case(employee, **extra):  # type: ignore[no-untyped-def]
    return Case.objects.create(
        cycle=CycleFactory(),
        subject_employee=employee,
        policy_unit=employee.org_unit,
        opened_at=timezone.now(),
        opened_on=timezone.localdate(),
        **extra,
    )


def test_evidence_texts_are_stored_encrypted_with_the_owners_key(dpo):
    owner = EmployeeFactory(full_name="Ada Lovelace")
    evidence = EvidenceFactory(
        owner=owner, title="Fixed ACME onboarding", customer_quote="Jane at ACME: it just works", review_comment=""
    )
    evidence.review_comment = "Convincing, well measured"
    evidence.save()

    created, updated = events_of(evidence)[:2]
    for clear in ("Fixed ACME onboarding", "Jane at ACME", "Convincing, well measured"):
        assert clear not in _stored(created) + _stored(updated)
    assert reveal_changes(created.changes)["customer_quote"] == [None, "Jane at ACME: it just works"]
    assert reveal_changes(updated.changes)["review_comment"] == ["", "Convincing, well measured"]
    assert created.changes["owner"] == [None, owner.pk]  # a link, in clear

    person_erase(label="org.employee", pk=owner.pk, by=dpo)

    assert reveal_changes(updated.changes)["review_comment"] == [ERASED, ERASED]
    assert reveal(created.object_repr) == ERASED


def test_a_candidates_values_take_the_key_of_their_hiring_case_and_an_employees_their_own(dpo):
    hiring = CandidateCaseFactory(candidate_name="Amara Nwosu", candidate_email="amara@example.net")
    employee = EmployeeFactory(full_name="Luis Fernandez")
    promotion = _employee_case(employee, decision_note="Strong customer focus")

    (hired,) = events_of(hiring, AuditAction.CREATE)
    (promoted,) = events_of(promotion, AuditAction.CREATE)
    assert "Amara" not in _stored(hired) and "amara@example.net" not in _stored(hired)
    assert "Strong customer focus" not in _stored(promoted) and "Luis" not in _stored(promoted)
    assert reveal_changes(hired.changes)["candidate_email"] == [None, "amara@example.net"]
    assert str(reveal(promoted.object_repr)).startswith("Luis Fernandez")

    person_erase(label="cases.case", pk=hiring.pk, by=dpo)

    assert reveal_changes(hired.changes)["candidate_name"] == [None, ERASED]
    assert reveal_changes(promoted.changes)["decision_note"] == [None, "Strong customer focus"]  # someone else


def test_a_reminders_address_takes_the_recipients_key_and_its_text_the_case_subjects(dpo):
    subject, manager = EmployeeFactory(full_name="Ada Lovelace"), EmployeeFactory(full_name="Mia Manager")
    case = _employee_case(subject)
    reminder = ReminderFactory(
        recipient_employee=manager, case=case, reason="Ada Lovelace is short of evidence", context={"subject": "Ada"}
    )

    (created,) = events_of(reminder, AuditAction.CREATE)
    to_email, reason = created.changes["to_email"][1], created.changes["reason"][1]
    assert is_encrypted(to_email) and is_encrypted(reason) and _key_id(to_email) != _key_id(reason)
    assert "Ada Lovelace" not in _stored(created) and manager.email not in _stored(created)

    person_erase(label="org.employee", pk=subject.pk, by=dpo)

    revealed = reveal_changes(created.changes)
    assert revealed["reason"] == [None, ERASED] and revealed["context"] == [None, ERASED]
    assert revealed["to_email"] == [None, manager.email]  # the manager's address is the manager's


def test_an_exceptions_justification_is_erased_with_the_case_subject(dpo):
    exception = PolicyExceptionFactory(justification="Built the customer programme at Globex")

    (created,) = events_of(exception, AuditAction.CREATE)
    assert "Globex" not in _stored(created)
    assert reveal_changes(created.changes)["justification"][1] == "Built the customer programme at Globex"

    person_erase(label="cases.case", pk=exception.case_id, by=dpo)

    assert reveal_changes(created.changes)["justification"] == [None, ERASED]
    assert reveal(created.object_repr) == ERASED


def test_finding_the_person_costs_no_query_on_the_row_and_one_a_step_away(django_assert_num_queries):
    evidence = EvidenceFactory()
    exception = PolicyExceptionFactory()
    evidence_rules = registrations_for(entry_for("evidence.evidence"))  # type: ignore[arg-type]
    exception_rules = registrations_for(entry_for("cases.policyexception"))  # type: ignore[arg-type]
    evidence, exception = type(evidence).objects.get(pk=evidence.pk), type(exception).objects.get(pk=exception.pk)

    with django_assert_num_queries(0):
        assert evidence_rules[0].person(evidence) == ("org.employee", evidence.owner_id)
    # The case's subject employee and candidate e-mail are read together, in one query.
    assert len(exception_rules) == 1
    with django_assert_num_queries(1):
        assert exception_rules[0].person(exception) == ("cases.case", exception.case_id)


def test_models_without_personal_data_register_nothing():
    assert personal_fields("org.orgunit") is None and personal_fields("policies.policy") is None
    unit = OrgUnitFactory(name="Finance")
    (created,) = events_of(unit, AuditAction.CREATE)
    assert created.changes["name"] == [None, "Finance"] and created.object_repr == "Finance"


@pytest.mark.django_db(transaction=True)
def test_after_erasing_a_person_with_history_the_chain_still_verifies(dpo):
    owner = EmployeeFactory(full_name="Ada Lovelace")
    case = _employee_case(owner, decision_note="Approved")
    EvidenceFactory(owner=owner, title="Onboarding fix")
    ReminderFactory(recipient_employee=owner, case=case)
    audit_seal_pending()
    assert audit_chain_verify().intact

    person_erase(label="org.employee", pk=owner.pk, by=dpo)
    owner.full_name = "Erased person"
    owner.save()
    audit_seal_pending()

    report = audit_chain_verify()
    assert report.intact and report.unsealed == 0
    assert events_of(owner, AuditAction.UPDATE)[-1].changes["full_name"] == [ERASED, ERASED]
