"""HR decides in the admin: the waiting step, approve, reject, exceptions, attestations, each behind a confirmation."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.cases.constants import CaseAuditAction, CaseStatus, ExceptionStatus
from apps.cases.models import Attestation, Case, PolicyException, StepRecord
from apps.cases.services import case_attest, case_exception_request, case_open
from apps.evidence.constants import EvidenceStatus
from tests.factories.cases import two_step_route
from tests.factories.evidence import EvidenceFactory

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Dana carried the contact-centre migration alone this year; stories were not written down."


@pytest.fixture
def case(cycle, org):
    return case_open(cycle=cycle, subject_employee=org["dana"])


def page_of(client, case):
    return client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()


def decide_url(case, decision):
    return reverse("admin:cases_case_decide", args=[case.pk, decision])


def test_the_case_page_shows_the_waiting_step_links_to_the_portal_and_has_no_save_button(
    admin_client, case, promotion, django_assert_max_num_queries
):
    two_step_route(promotion)

    with django_assert_max_num_queries(40):
        page = page_of(admin_client, case)

    assert "Waiting for: <strong>Manager recommends (step 1 of 2)</strong>" in page
    assert "You cannot act on this step." in page
    assert reverse("portal:case-detail", args=[case.pk]) in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page


def test_approve_asks_for_confirmation_then_approves(admin_client, case, org):
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    assert decide_url(case, "approve") in page_of(admin_client, case)

    confirm = admin_client.get(decide_url(case, "approve")).content.decode()
    assert "Yes, approve" in confirm
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN

    done = admin_client.post(decide_url(case, "approve"), {"comment": "Criteria met."}, follow=True)

    assert "Recorded your approval: the case is approved." in done.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.APPROVED


def test_an_approval_the_gate_refuses_says_why_and_records_only_the_refusal(admin_client, case):
    before = AuditEvent.objects.count()

    response = admin_client.post(decide_url(case, "approve"), {"comment": ""})

    assert "Nothing was recorded: The case does not meet its policy: One customer story (0 of 1)." in (
        response.content.decode()
    )
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN
    assert not StepRecord.objects.exists()
    assert list(AuditEvent.objects.order_by("pk").values_list("action", flat=True)[before:]) == [
        CaseAuditAction.CASE_DECISION_REFUSED
    ]


def test_reject_needs_a_note(admin_client, case):
    empty = admin_client.post(decide_url(case, "reject"), {"note": ""})
    assert "This field is required." in empty.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN

    admin_client.post(decide_url(case, "reject"), {"note": "No customer evidence this cycle."})

    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED
    assert case.decision_note == "No customer evidence this cycle."
    assert "Rejected by" in page_of(admin_client, case)


def test_request_exception_offers_the_unmet_requirements_by_label(admin_client, case):
    url = reverse("admin:cases_case_exception_request", args=[case.pk])
    assert url in page_of(admin_client, case)
    form = admin_client.get(url).content.decode()
    assert "One customer story (0 of 1)" in form
    requirement_id = case.pinned_versions.get().requirements.get().pk

    thin = admin_client.post(url, {"justification": "Because.", "waived": [requirement_id]})
    assert "Nothing was recorded: Justify the exception in at least a full sentence" in thin.content.decode()
    assert not PolicyException.objects.exists()

    admin_client.post(url, {"justification": JUSTIFICATION, "waived": [requirement_id]})

    exception = PolicyException.objects.get()
    assert list(exception.waived_requirements.values_list("pk", flat=True)) == [requirement_id]
    assert "waits for a decision by a second HR person" in page_of(admin_client, case)


def test_attest_as_a_role_the_policy_names_then_withdraw_it(admin_client, attesting_cycle, org, admin_user):
    case = case_open(cycle=attesting_cycle, subject_employee=org["dana"])
    # The superuser is HR, not Dana's manager: no 'Attest as manager' button for them.
    assert "Attest as manager" not in page_of(admin_client, case)
    refused = admin_client.post(reverse("admin:cases_case_attest", args=[case.pk, "manager"]), {"note": "I vouch."})
    assert "Nothing was recorded: Only the case&#x27;s manager can attest in that role." in refused.content.decode()
    assert not Attestation.objects.exists()

    attestation = case_attest(case=case, by=org["manager"].user, role="manager", note="Seen it every week.")
    withdraw = reverse("admin:cases_case_attestation_withdraw", args=[case.pk, attestation.pk])
    assert withdraw in page_of(admin_client, case)

    done = admin_client.post(withdraw, {"note": "Attested on the wrong case."}, follow=True)

    assert "Withdrew the manager attestation" in done.content.decode()
    assert not Attestation.objects.exists()


def test_attest_as_hr_when_the_policy_asks_for_it(admin_client, promotion, org):
    from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
    from tests.factories.cases import CycleFactory

    policy = policy_create(ritual_type=promotion, scope=None)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate() - dt.timedelta(days=60))
    requirement_add(version=version, kind="attestation", params={"role": "hr"}, label="HR attests")
    policy_version_publish(version=version, today=version.effective_from)
    case = case_open(cycle=CycleFactory(), subject_employee=org["dana"])
    url = reverse("admin:cases_case_attest", args=[case.pk, "hr"])
    assert url in page_of(admin_client, case)

    done = admin_client.post(url, {"note": "References checked."}, follow=True)

    assert "Attested as hr" in done.content.decode()
    assert Case.objects.get(pk=case.pk).compliant is True


def test_exception_decision_page_shows_the_checklist_and_keeps_four_eyes(
    admin_client, admin_user, second_admin, client, case, django_assert_max_num_queries
):
    requirement = case.pinned_versions.get().requirements.get()
    exception = case_exception_request(
        case=case, by=admin_user, justification=JUSTIFICATION, waived_requirement_ids=[requirement.pk]
    )
    decide = reverse("admin:cases_policyexception_decide", args=[exception.pk])
    change = admin_client.get(reverse("admin:cases_policyexception_change", args=[exception.pk])).content.decode()
    assert decide in change and 'name="_save"' not in change
    assert "Waiting for a decision by a second HR person" in change

    page = admin_client.get(decide).content.decode()
    assert 'id="checklist"' in page and "0 / 1" in page
    assert "<li>One customer story</li>" in page

    own = admin_client.post(decide, {"note": "Fine by me.", "_grant": "1"})
    assert "Nothing was recorded: Four eyes: whoever requested an exception cannot also decide it." in (
        own.content.decode()
    )
    assert PolicyException.objects.get().status == ExceptionStatus.REQUESTED
    assert AuditEvent.objects.filter(action=CaseAuditAction.EXCEPTION_DECISION_REFUSED).count() == 1

    client.force_login(second_admin)
    done = client.post(decide, {"note": "Checked with her director.", "_grant": "1"}, follow=True)
    assert "Granted by second-admin" in done.content.decode()
    assert PolicyException.objects.get().status == ExceptionStatus.GRANTED


def test_exception_list_filters_those_waiting_for_a_decision(
    admin_client, admin_user, cycle, org, django_assert_max_num_queries
):
    from tests.factories.org import EmployeeFactory

    for _ in range(8):
        person = EmployeeFactory(org_unit=org["unit"], manager=org["manager"])
        case = case_open(cycle=cycle, subject_employee=person)
        requirement = case.pinned_versions.get().requirements.get()
        case_exception_request(
            case=case, by=admin_user, justification=JUSTIFICATION, waived_requirement_ids=[requirement.pk]
        )

    with django_assert_max_num_queries(15):
        response = admin_client.get(reverse("admin:cases_policyexception_changelist"), {"decision": "waiting"})

    page = response.content.decode()
    assert "Waiting for a decision" in page
    assert page.count("Waiting for a decision by a second HR person") == 8


def test_the_admin_case_page_shows_the_timeline_with_each_step_and_its_actor(admin_client, case, org, admin_user):
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    admin_client.post(decide_url(case, "approve"), {"comment": "Criteria met."})

    page = page_of(admin_client, case)

    assert 'id="timeline"' in page
    timeline = page[page.index('id="timeline"') :]
    assert "opened" in timeline.lower()
    assert "approved" in timeline.lower()
    assert admin_user.get_username() in timeline or admin_user.get_full_name() in timeline
