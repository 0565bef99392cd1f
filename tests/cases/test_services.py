"""Cases: pinned policies, the approval route, exceptions with four eyes, and the compliance gate."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.cases.constants import CaseStatus
from apps.cases.models import Delegation
from apps.cases.selectors import case_checklist
from apps.cases.services import (
    case_attest,
    case_exception_decide,
    case_exception_request,
    case_open,
    case_step_decide,
    case_withdraw,
)
from apps.common.errors import InvalidTransition
from apps.evidence.constants import EvidenceStatus
from apps.policies.services import (
    policy_create,
    policy_version_create,
    policy_version_draft_from,
    policy_version_publish,
    requirement_add,
)
from tests.factories.cases import two_step_route
from tests.factories.evidence import EvidenceFactory

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Dana carried the contact-centre migration alone this year; stories were not written down."


def verified_story(owner):
    return EvidenceFactory(owner=owner, status=EvidenceStatus.VERIFIED)


def test_opening_pins_the_versions_in_force(cycle, org, baseline):
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    assert list(case.pinned_versions.all()) == [baseline]
    assert case.policy_unit == org["unit"]
    assert case.status == CaseStatus.OPEN


def test_publishing_a_new_version_does_not_change_an_open_case(cycle, org, baseline):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    stricter = policy_version_draft_from(version=baseline, effective_from=timezone.localdate())
    requirement_add(version=stricter, kind="customer_voice", params={"count": 5})
    policy_version_publish(version=stricter)

    assert list(case.pinned_versions.all()) == [baseline]
    verified_story(org["dana"])
    assert case_checklist(case, today=timezone.localdate()).compliant


def test_group_policy_adds_to_the_baseline_never_removes_it(cycle, org, promotion):
    group = policy_create(ritual_type=promotion, scope=org["unit"])
    version = policy_version_create(policy=group, effective_from=timezone.localdate())
    requirement_add(version=version, kind="customer_voice", params={"count": 1}, label="A sourced quote")
    policy_version_publish(version=version)

    case = case_open(cycle=cycle, subject_employee=org["dana"])
    labels = [r.label for r in case_checklist(case, today=timezone.localdate()).results]

    assert labels == ["One customer story", "A sourced quote"]


def test_a_case_cannot_open_without_a_baseline(promotion, org):
    from tests.factories.cases import CycleFactory

    with pytest.raises(ValidationError, match="No published Promotion baseline"):
        case_open(cycle=CycleFactory(ritual_type=promotion), subject_employee=org["dana"])


def test_one_live_case_per_employee_and_cycle(cycle, org):
    case_open(cycle=cycle, subject_employee=org["dana"])
    with pytest.raises(ValidationError, match="already has a case"):
        case_open(cycle=cycle, subject_employee=org["dana"])


def test_subject_must_fit_the_ritual(cycle, org):
    with pytest.raises(ValidationError) as error:
        case_open(cycle=cycle, subject_unit=org["unit"])
    assert "subject_employee" in error.value.message_dict


def test_approve_refuses_when_the_policy_is_not_met_and_lists_what_is_missing(cycle, org):
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    with pytest.raises(ValidationError, match=r"does not meet its policy: One customer story \(0 of 1\)"):
        case_step_decide(case=case, by=org["hr_a"], decision="approve")

    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert not case.step_records.exists()


def test_approve_freezes_the_evaluation_when_compliant(cycle, org):
    story = verified_story(org["dana"])
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    case = case_step_decide(case=case, by=org["hr_a"], decision="approve", comment="Well earned")

    assert case.status == CaseStatus.APPROVED
    assert case.frozen_evaluation["compliant"] is True
    assert case.frozen_evaluation["results"][0]["counted_ids"] == [story.pk]
    assert AuditEvent.objects.filter(action="case_approved", object_id=str(case.pk)).count() == 1


def test_decided_cases_are_read_only(cycle, org):
    verified_story(org["dana"])
    case = case_step_decide(
        case=case_open(cycle=cycle, subject_employee=org["dana"]), by=org["hr_a"], decision="approve"
    )
    with pytest.raises(InvalidTransition, match="decided cases are read-only"):
        case_withdraw(case=case, by=org["hr_a"], note="Changed our mind")


def test_nobody_approves_their_own_case(cycle, org):
    dana_user = org["dana"].user
    dana_user.groups.add(*org["hr_a"].groups.all())
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    with pytest.raises(PermissionDenied, match="own case"):
        case_step_decide(case=case, by=dana_user, decision="approve")


def test_two_step_route_cannot_be_short_cut(cycle, org, promotion):
    two_step_route(promotion)
    verified_story(org["dana"])
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    with pytest.raises(PermissionDenied, match="waits for 'Manager recommends'"):
        case_step_decide(case=case, by=org["hr_a"], decision="approve")

    case_step_decide(case=case, by=org["manager"].user, decision="approve", comment="Recommend")
    case = case_step_decide(case=case, by=org["hr_a"], decision="approve")
    assert case.status == CaseStatus.APPROVED
    assert [r.step_name for r in case.step_records.all()] == ["Manager recommends", "HR approves"]


def test_manager_recommendation_does_not_pass_the_gate_but_the_final_step_does(cycle, org, promotion):
    two_step_route(promotion)
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    case_step_decide(case=case, by=org["manager"].user, decision="approve")
    with pytest.raises(ValidationError, match="does not meet its policy"):
        case_step_decide(case=case, by=org["hr_a"], decision="approve")

    assert case.step_records.count() == 1


def test_a_delegate_acts_within_the_delegation_period_on_behalf_of_the_principal(cycle, org, promotion):
    two_step_route(promotion)
    today = timezone.localdate()
    Delegation.objects.create(
        principal=org["manager"].user, delegate=org["hr_a"], starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=1),
    )  # fmt: skip
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    case_step_decide(case=case, by=org["hr_a"], decision="approve")

    record = case.step_records.get()
    assert record.by == org["hr_a"]
    assert record.on_behalf_of == org["manager"].user


def test_a_delegate_cannot_act_outside_the_period(cycle, org, promotion):
    two_step_route(promotion)
    today = timezone.localdate()
    Delegation.objects.create(
        principal=org["manager"].user, delegate=org["hr_a"], starts_on=today - dt.timedelta(days=10),
        ends_on=today - dt.timedelta(days=1),
    )  # fmt: skip
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    with pytest.raises(PermissionDenied):
        case_step_decide(case=case, by=org["hr_a"], decision="approve")


def test_the_same_person_cannot_decide_two_steps(cycle, org, promotion):
    two_step_route(promotion)
    verified_story(org["dana"])
    org["manager"].user.groups.add(*org["hr_a"].groups.all())
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    case_step_decide(case=case, by=org["manager"].user, decision="approve")

    with pytest.raises(PermissionDenied, match="Four eyes"):
        case_step_decide(case=case, by=org["manager"].user, decision="approve")


def test_exception_without_justification_is_refused(cycle, org):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    requirement = case.pinned_versions.get().requirements.get()

    with pytest.raises(ValidationError) as error:
        case_exception_request(
            case=case, by=org["hr_a"], justification="Because.", waived_requirement_ids=[requirement.pk]
        )
    assert "justification" in error.value.message_dict


def test_exception_needs_four_eyes_and_then_allows_approval_with_exception(cycle, org):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    requirement = case.pinned_versions.get().requirements.get()
    exception = case_exception_request(
        case=case, by=org["hr_a"], justification=JUSTIFICATION, waived_requirement_ids=[requirement.pk]
    )

    with pytest.raises(PermissionDenied, match="Four eyes"):
        case_exception_decide(exception=exception, by=org["hr_a"], grant=True)

    case_exception_decide(exception=exception, by=org["hr_b"], grant=True)
    case = case_step_decide(case=case, by=org["hr_a"], decision="approve", comment="With exception")

    assert case.status == CaseStatus.APPROVED_WITH_EXCEPTION
    assert case.frozen_evaluation["compliant"] is False
    assert case.frozen_evaluation["waived"] == [requirement.pk]
    assert AuditEvent.objects.filter(action="exception_granted").count() == 1


def test_a_refused_exception_does_not_open_the_gate(cycle, org):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    requirement = case.pinned_versions.get().requirements.get()
    exception = case_exception_request(
        case=case, by=org["manager"].user, justification=JUSTIFICATION, waived_requirement_ids=[requirement.pk]
    )
    case_exception_decide(exception=exception, by=org["hr_b"], grant=False, note="Write the stories down.")

    with pytest.raises(ValidationError):
        case_step_decide(case=case, by=org["hr_a"], decision="approve")


def test_only_requirements_of_the_case_can_be_waived(cycle, org, promotion):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    other = policy_create(ritual_type=promotion, scope=org["unit"])
    version = policy_version_create(policy=other, effective_from=timezone.localdate())
    foreign = requirement_add(version=version, kind="customer_voice", params={"count": 1})

    with pytest.raises(ValidationError) as error:
        case_exception_request(
            case=case, by=org["hr_a"], justification=JUSTIFICATION, waived_requirement_ids=[foreign.pk]
        )
    assert "waived_requirements" in error.value.message_dict


def test_reject_needs_a_note_and_closes_the_case(cycle, org):
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    with pytest.raises(ValidationError) as error:
        case_step_decide(case=case, by=org["hr_a"], decision="reject")
    assert "note" in error.value.message_dict

    case = case_step_decide(case=case, by=org["hr_a"], decision="reject", comment="Not this cycle.")
    assert case.status == CaseStatus.REJECTED
    assert case.decision_note == "Not this cycle."


def test_withdraw_needs_a_note_and_an_allowed_person(cycle, org):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    with pytest.raises(ValidationError):
        case_withdraw(case=case, by=org["hr_a"], note="")
    with pytest.raises(PermissionDenied):
        case_withdraw(case=case, by=org["director"].user, note="Not mine to withdraw")

    case = case_withdraw(case=case, by=org["dana"].user, note="I will apply next cycle.")
    assert case.status == CaseStatus.WITHDRAWN


def test_manager_attestation_meets_an_attestation_requirement(cycle, org, baseline):
    draft = policy_version_draft_from(version=baseline, effective_from=timezone.localdate())
    requirement_add(version=draft, kind="attestation", params={"role": "manager"}, label="Manager attests")
    policy_version_publish(version=draft)
    verified_story(org["dana"])
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    assert not case_checklist(case, today=timezone.localdate()).compliant

    with pytest.raises(PermissionDenied):
        case_attest(case=case, by=org["director"].user, role="manager")
    case_attest(case=case, by=org["manager"].user, role="manager")

    assert case_checklist(case, today=timezone.localdate()).compliant


def test_evidence_after_the_evidence_deadline_does_not_count(cycle, org):
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED, impact_date=timezone.localdate())
    cycle.evidence_deadline = timezone.localdate() - dt.timedelta(days=1)
    cycle.save()
    case = case_open(cycle=cycle, subject_employee=org["dana"], today=cycle.opens_on)

    assert not case_checklist(case, today=timezone.localdate()).compliant


def test_verifying_evidence_refreshes_the_stored_compliance_of_open_cases(
    cycle, org, django_capture_on_commit_callbacks
):
    from apps.cases.models import Case
    from apps.evidence.services import evidence_verify

    case = case_open(cycle=cycle, subject_employee=org["dana"])
    story = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.SUBMITTED)

    with django_capture_on_commit_callbacks(execute=True):
        evidence_verify(evidence=story, by=org["manager"].user)

    assert Case.objects.get(pk=case.pk).compliant is True
