"""A refused attempt leaves nothing but its own audit event; the case workflow announces its events."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.audit.models import AuditEvent
from apps.audit.personal import reveal
from apps.cases.constants import CaseAuditAction, CaseStatus, ExceptionStatus
from apps.cases.hooks import CaseEvent
from apps.cases.models import Attestation, Case, PolicyException, StepRecord
from apps.cases.services import (
    case_attest,
    case_attestation_withdraw,
    case_exception_decide,
    case_exception_request,
    case_open,
    case_step_decide,
    case_withdraw,
)
from apps.evidence.constants import EvidenceStatus
from tests.factories.cases import two_step_route
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Dana carried the contact-centre migration alone this year; stories were not written down."


@pytest.fixture
def case(cycle, org):
    return case_open(cycle=cycle, subject_employee=org["dana"])


@pytest.fixture
def trail():
    """The audit events written after the fixture started."""

    class Trail:
        def __init__(self):
            self.mark()

        def mark(self):
            self.start = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

        def new(self):
            return list(AuditEvent.objects.filter(pk__gt=self.start).order_by("pk"))

    return Trail()


@pytest.fixture
def events(monkeypatch):
    """The case events the services announce, as (case_id, event, context)."""
    heard = []

    def hear(*, case_id, event, **context):
        heard.append((case_id, event, context))

    monkeypatch.setattr("apps.cases.services.case_event", hear)
    monkeypatch.setattr("apps.cases.evaluations.case_event", hear)  # "now meets its policy", after a refresh
    return heard


def only_refusal(trail, action, case):
    new = trail.new()
    assert [e.action for e in new] == [action]
    assert new[0].object_id == str(case.pk)
    return new[0].context


def test_an_approval_the_gate_refuses_leaves_only_its_refusal_on_the_trail(case, org, trail):
    with pytest.raises(ValidationError, match="does not meet its policy"):
        case_step_decide(case=case, by=org["hr_a"], decision="approve")

    context = only_refusal(trail, CaseAuditAction.CASE_DECISION_REFUSED, case)
    assert "One customer story (0 of 1)" in context["reason"]
    assert context["by"] == org["hr_a"].pk
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN
    assert not StepRecord.objects.exists()


def test_a_four_eyes_refusal_leaves_the_exception_waiting(case, org, trail):
    exception = case_exception_request(
        case=case, by=org["hr_a"], justification=JUSTIFICATION, waived_requirement_ids=_requirement_ids(case)
    )
    trail.mark()

    with pytest.raises(PermissionDenied, match="Four eyes"):
        case_exception_decide(exception=exception, by=org["hr_a"], grant=True)

    context = only_refusal(trail, CaseAuditAction.EXCEPTION_DECISION_REFUSED, case)
    assert "cannot also decide it" in context["reason"]
    assert PolicyException.objects.get(pk=exception.pk).status == ExceptionStatus.REQUESTED


def test_a_thin_justification_is_refused_and_audited(case, org, trail):
    with pytest.raises(ValidationError, match="at least a full sentence"):
        case_exception_request(
            case=case, by=org["hr_a"], justification="Because.", waived_requirement_ids=_requirement_ids(case)
        )

    only_refusal(trail, CaseAuditAction.EXCEPTION_REQUEST_REFUSED, case)
    assert not PolicyException.objects.exists()


def test_an_attestation_by_the_wrong_role_is_refused_and_audited(case, org, trail):
    colleague = EmployeeFactory(org_unit=org["unit"], user=UserFactory(username="colleague"))
    trail.mark()

    with pytest.raises(PermissionDenied, match="Only the case's manager can attest"):
        case_attest(case=case, by=colleague.user, role="manager", note="I vouch for her.")

    context = only_refusal(trail, CaseAuditAction.ATTESTATION_REFUSED, case)
    assert context["by_name"] == "colleague"
    assert not Attestation.objects.exists()


def test_withdrawing_an_attestation_is_for_the_attester_or_hr_and_refreshes_compliance(attesting_cycle, org):
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    case = case_open(cycle=attesting_cycle, subject_employee=org["dana"])
    attestation = case_attest(case=case, by=org["manager"].user, role="manager", note="Seen it every week.")
    assert Case.objects.get(pk=case.pk).compliant is True

    with pytest.raises(PermissionDenied, match="Only the person who attested or HR"):
        case_attestation_withdraw(attestation=attestation, by=org["director"].user, note="Not convinced.")
    case_attestation_withdraw(attestation=attestation, by=org["manager"].user, note="Attested on the wrong case.")

    assert not Attestation.objects.exists()
    assert Case.objects.get(pk=case.pk).compliant is False
    withdrawn = AuditEvent.objects.get(action=CaseAuditAction.ATTESTATION_WITHDRAWN)
    assert reveal(withdrawn.context["note"]) == "Attested on the wrong case."
    assert AuditEvent.objects.filter(action=CaseAuditAction.ATTESTATION_WITHDRAWAL_REFUSED).count() == 1


def test_the_workflow_announces_each_event(attesting_cycle, org, promotion, events):
    two_step_route(promotion)
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    case = case_open(cycle=attesting_cycle, subject_employee=org["dana"], by=org["hr_a"])
    attestation = case_attest(case=case, by=org["manager"].user, role="manager", note="Seen it.")
    case_attestation_withdraw(attestation=attestation, by=org["hr_a"], note="Wrong case, sorry.")
    case_attest(case=case, by=org["manager"].user, role="manager", note="Seen it.")
    case_step_decide(case=case, by=org["manager"].user, decision="approve", comment="Recommend.")
    exception = case_exception_request(
        case=case, by=org["hr_a"], justification=JUSTIFICATION, waived_requirement_ids=_requirement_ids(case)
    )
    case_exception_decide(exception=exception, by=org["hr_b"], grant=False, note="Not needed: she meets it.")
    case_step_decide(case=case, by=org["hr_b"], decision="approve")

    told = [(event, context) for case_id, event, context in events if case_id == case.pk]
    assert told == [
        (CaseEvent.OPENED, {"by": org["hr_a"].pk}),
        (CaseEvent.STEP_WAITING, {"order": 1}),  # the attestation made it compliant; nobody has acted yet
        (CaseEvent.ATTESTED, {"role": "manager", "by": org["manager"].user.pk}),
        (CaseEvent.ATTESTATION_WITHDRAWN, {"role": "manager", "by": org["hr_a"].pk}),
        (CaseEvent.STEP_WAITING, {"order": 1}),
        (CaseEvent.ATTESTED, {"role": "manager", "by": org["manager"].user.pk}),
        (CaseEvent.STEP_WAITING, {"order": 2}),
        (CaseEvent.EXCEPTION_REQUESTED, {"exception_id": exception.pk, "by": org["hr_a"].pk}),
        (CaseEvent.EXCEPTION_DECIDED, {"exception_id": exception.pk, "status": "refused", "by": org["hr_b"].pk}),
        (CaseEvent.DECIDED, {"status": "approved", "by": org["hr_b"].pk}),
    ]


def test_a_withdrawal_is_announced_as_a_decision(case, org, events):
    case_withdraw(case=case, by=org["hr_a"], note="Moved to another role.")

    assert events[-1] == (case.pk, CaseEvent.DECIDED, {"status": "withdrawn", "by": org["hr_a"].pk})


def _requirement_ids(case):
    return [r.pk for version in case.pinned_versions.all() for r in version.requirements.all()]


def test_only_hr_opens_cases_and_a_refused_opening_is_audited_on_the_cycle(cycle, org, trail):
    with pytest.raises(PermissionDenied, match="Only HR can open cases"):
        case_open(cycle=cycle, subject_employee=org["dana"], by=org["manager"].user)

    new = trail.new()
    assert [e.action for e in new] == [CaseAuditAction.CASE_OPENING_REFUSED]
    assert new[0].object_id == str(cycle.pk)
    assert not Case.objects.exists()
    assert case_open(cycle=cycle, subject_employee=org["dana"], by=org["hr_a"]).is_open


def test_a_granted_exception_covering_everything_unmet_tells_the_waiting_step(case, org, events):
    exception = case_exception_request(
        case=case, by=org["hr_a"], justification=JUSTIFICATION, waived_requirement_ids=_requirement_ids(case)
    )
    case_exception_decide(exception=exception, by=org["hr_b"], grant=True)

    told = [(event, context) for case_id, event, context in events if case_id == case.pk]
    assert told[-1] == (CaseEvent.STEP_WAITING, {"order": 1})


def test_a_granted_exception_that_leaves_something_unmet_tells_no_step(attesting_cycle, org, events):
    case = case_open(cycle=attesting_cycle, subject_employee=org["dana"])
    story = [r for r in _requirement_ids(case) if r != _requirement_ids(case)[-1]]
    exception = case_exception_request(
        case=case, by=org["hr_a"], justification=JUSTIFICATION, waived_requirement_ids=story
    )
    case_exception_decide(exception=exception, by=org["hr_b"], grant=True)

    assert CaseEvent.STEP_WAITING not in [event for case_id, event, _ in events if case_id == case.pk]
