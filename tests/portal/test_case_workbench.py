"""The HR workbench on the portal's case page: exception requests, attestations, confirmed decisions, the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.cases.constants import ExceptionStatus
from apps.cases.models import Attestation, Case, PolicyException, StepRecord
from apps.cases.services import case_exception_decide, case_open
from apps.common.roles import Role, ensure_role_groups
from apps.evidence.constants import EvidenceStatus
from apps.policies.models import Requirement, RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from tests.factories.cases import CycleFactory, two_step_route
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import UserFactory

from .helpers import field_error, page_text

pytestmark = pytest.mark.django_db

STORY_RULE = {"count": 1, "categories": ["customer_story"], "within_days": 365}
JUSTIFICATION = "Dana ran the front desk alone for three months; her stories were never written down at the time."


@pytest.fixture
def promotion(db) -> RitualType:
    """The promotion baseline: one verified customer story and the manager's attestation."""
    ritual = RitualType.objects.get(code="promotion")
    version = policy_version_create(
        policy=policy_create(ritual_type=ritual, scope=None),
        effective_from=timezone.localdate() - dt.timedelta(days=60),
    )
    requirement_add(version=version, kind="min_evidence", params=STORY_RULE, label="One customer story")
    requirement_add(version=version, kind="attestation", params={"role": "manager"}, label="Manager attests")
    policy_version_publish(version=version, today=version.effective_from)
    return ritual


@pytest.fixture
def case(promotion, cast) -> Case:
    return case_open(cycle=CycleFactory(), subject_employee=cast.dana_employee)


@pytest.fixture
def hr2(cast):
    second = UserFactory(username="hr2", first_name="Hugo", last_name="Second")
    second.groups.add(ensure_role_groups()[Role.HR])
    return second


def requirement(label: str) -> Requirement:
    return Requirement.objects.get(label=label)


def detail(pk: int) -> str:
    return reverse("portal:case-detail", args=[pk])


def request_exception(client, case, **data):
    payload = {
        "justification": JUSTIFICATION,
        "waived_requirements": [requirement("One customer story").pk, requirement("Manager attests").pk],
        "confirm": "on",
        **data,
    }
    return client.post(reverse("portal:case-exception-request", args=[case.pk]), payload, follow=True)


# Exception requests ------------------------------------------------------------------------------------------------


def test_the_manager_sees_the_exception_form_with_the_unmet_requirements_prechecked(case, cast, as_user):
    page = as_user(cast.manager).get(detail(case.pk)).content.decode()

    assert "Request an exception" in page
    for label in ("One customer story", "Manager attests"):
        pk = requirement(label).pk
        assert f'value="{pk}"' in page and label in page
    assert page.count("checked") >= 2


def test_the_manager_requests_an_exception_and_sees_it_waiting_for_hr(case, cast, as_user):
    response = request_exception(as_user(cast.manager), case)

    text = page_text(response)
    assert response.status_code == 200
    assert "Exception requested; a second HR person decides it." in text
    assert "Requested — waiting for HR" in text
    exception = PolicyException.objects.get(case=case)
    assert exception.requested_by == cast.manager
    assert {r.label for r in exception.waived_requirements.all()} == {"One customer story", "Manager attests"}


def test_a_thin_justification_is_refused_next_to_the_field_and_nothing_is_written(case, cast, as_user):
    response = request_exception(as_user(cast.manager), case, justification="Because.")

    assert response.status_code == 400
    assert "Justify the exception in at least a full sentence" in field_error(response, "justification")
    assert not PolicyException.objects.exists()


def test_the_request_needs_its_confirmation_box(case, cast, as_user):
    response = request_exception(as_user(cast.manager), case, confirm="")

    assert response.status_code == 400
    assert "Tick the box to confirm the request." in field_error(response, "confirm")
    assert not PolicyException.objects.exists()


def test_the_subject_gets_no_exception_form_and_a_403_when_posting_one(case, cast, as_user):
    client = as_user(cast.dana)
    assert "Request an exception" not in client.get(detail(case.pk)).content.decode()

    response = request_exception(client, case)

    assert response.status_code == 403
    assert "Only the nominator, the subject's manager or HR can request an exception." in page_text(response)
    assert not PolicyException.objects.exists()


def test_the_subject_sees_the_exception_state_but_not_the_justification(case, cast, hr2, as_user):
    request_exception(as_user(cast.manager), case)
    case_exception_decide(exception=PolicyException.objects.get(), by=hr2, grant=False, note="Write the stories first.")

    subject_text = page_text(as_user(cast.dana).get(detail(case.pk)))
    hr_text = page_text(as_user(cast.hr).get(detail(case.pk)))

    assert "Refused" in subject_text
    assert JUSTIFICATION not in subject_text and "Write the stories first." not in subject_text
    assert JUSTIFICATION in hr_text and "Write the stories first." in hr_text and "Hugo Second" in hr_text


def test_the_subject_reads_the_justification_when_the_ritual_shares_it(case, cast, as_user, promotion):
    if not hasattr(promotion, "share_exception_justification"):
        pytest.skip("RitualType.share_exception_justification is not there yet")
    promotion.share_exception_justification = True
    promotion.save()
    request_exception(as_user(cast.manager), case)

    assert JUSTIFICATION in page_text(as_user(cast.dana).get(detail(case.pk)))


# Attestations ------------------------------------------------------------------------------------------------------


def test_the_manager_attests_and_the_checklist_row_turns_met(case, cast, as_user):
    client = as_user(cast.manager)
    assert "Attest as manager" in client.get(detail(case.pk)).content.decode()

    response = client.post(
        reverse("portal:case-attest", args=[case.pk]),
        {"attest-role": "manager", "attest-note": "Dana runs the desk."},
        follow=True,
    )

    text = page_text(response)
    assert "You attested as manager" in text
    assert "Manager attests Met" in text
    assert "Attest as manager" not in text
    assert Attestation.objects.get(case=case).note == "Dana runs the desk."


def test_an_attestation_in_someone_elses_role_is_refused_with_403_and_nothing_written(case, cast, as_user):
    client = as_user(cast.hr)
    assert "Attest as manager" not in client.get(detail(case.pk)).content.decode()

    response = client.post(reverse("portal:case-attest", args=[case.pk]), {"attest-role": "manager"})

    assert response.status_code == 403
    assert "Only the case's manager can attest in that role." in page_text(response)
    assert not Attestation.objects.exists()


def test_the_attester_withdraws_with_a_note_and_the_requirement_is_unmet_again(case, cast, as_user):
    client = as_user(cast.manager)
    client.post(reverse("portal:case-attest", args=[case.pk]), {"attest-role": "manager"})
    attestation = Attestation.objects.get()
    url = reverse("portal:case-attestation-withdraw", args=[case.pk, attestation.pk])

    refused = client.post(url, {f"withdraw-{attestation.pk}-note": ""})
    assert refused.status_code == 400
    assert Attestation.objects.exists()

    response = client.post(url, {f"withdraw-{attestation.pk}-note": "Attested the wrong case."}, follow=True)

    text = page_text(response)
    assert "You withdrew the manager attestation" in text
    assert "Manager attests Not met" in text
    assert "Withdrew the manager attestation: “Attested the wrong case.”" in text
    assert not Attestation.objects.exists()


# Decisions ---------------------------------------------------------------------------------------------------------


def test_a_decision_is_confirmed_before_it_is_recorded_and_then_announced(case, cast, as_user, promotion):
    two_step_route(promotion)
    client = as_user(cast.manager)
    url = reverse("portal:case-decide", args=[case.pk])

    confirm = client.post(url, {"decision": "approve", "comment": "Recommend"})
    assert confirm.status_code == 200
    assert "Yes, approve step 1 of 2: Manager recommends" in page_text(confirm)
    assert not StepRecord.objects.exists()

    done = client.post(url, {"decision": "approve", "comment": "Recommend", "confirm": "yes"}, follow=True)

    assert "You approved step 1 of 2: Manager recommends; the case now waits for HR approves." in page_text(done)
    assert StepRecord.objects.get().comment == "Recommend"


def test_a_refused_gate_says_why_and_offers_the_exception_form(case, cast, as_user):
    response = as_user(cast.hr).post(reverse("portal:case-decide", args=[case.pk]), {"decision": "approve"})

    page = response.content.decode()
    assert response.status_code == 400
    assert "does not meet its policy" in page and "One customer story (0 of 1)" in page
    assert 'href="#request-exception"' in page and 'id="request-exception"' in page
    assert Case.objects.get(pk=case.pk).is_open


def test_approval_with_a_granted_exception_confirms_and_decides(case, cast, hr2, as_user):
    request_exception(as_user(cast.manager), case)
    case_exception_decide(exception=PolicyException.objects.get(), by=hr2, grant=True)
    client = as_user(cast.hr)
    url = reverse("portal:case-decide", args=[case.pk])

    assert client.post(url, {"decision": "approve"}).status_code == 200
    done = client.post(url, {"decision": "approve", "confirm": "yes"}, follow=True)

    assert "You approved step 1 of 1: HR approves; the case is approved with exception." in page_text(done)
    assert PolicyException.objects.get().status == ExceptionStatus.GRANTED


def test_four_eyes_the_person_who_recommended_cannot_also_approve(case, cast, as_user, promotion):
    two_step_route(promotion)
    cast.manager.groups.add(ensure_role_groups()[Role.HR])
    EvidenceFactory(owner=cast.dana_employee, status=EvidenceStatus.VERIFIED)
    client = as_user(cast.manager)
    client.post(reverse("portal:case-attest", args=[case.pk]), {"attest-role": "manager"})
    url = reverse("portal:case-decide", args=[case.pk])
    client.post(url, {"decision": "approve", "confirm": "yes"})

    response = client.post(url, {"decision": "approve", "confirm": "yes"})

    assert response.status_code == 403
    assert "Four eyes" in page_text(response)
    assert StepRecord.objects.count() == 1


def test_a_rejection_without_a_comment_is_refused_after_confirmation(case, cast, as_user):
    response = as_user(cast.hr).post(
        reverse("portal:case-decide", args=[case.pk]), {"decision": "reject", "confirm": "yes"}
    )

    assert response.status_code == 400
    assert "Write a note saying why you reject the case." in page_text(response)
    assert Case.objects.get(pk=case.pk).is_open


# The page ----------------------------------------------------------------------------------------------------------


def test_hr_gets_a_link_to_the_admin_case_page_and_the_subject_does_not(case, cast, as_user):
    admin_url = reverse("admin:cases_case_change", args=[case.pk])
    assert admin_url in as_user(cast.hr).get(detail(case.pk)).content.decode()
    assert admin_url not in as_user(cast.dana).get(detail(case.pk)).content.decode()


def test_the_page_shows_the_timeline_with_names(case, cast, as_user):
    as_user(cast.manager).post(reverse("portal:case-attest", args=[case.pk]), {"attest-role": "manager"})

    text = page_text(as_user(cast.dana).get(detail(case.pk)))

    assert "Timeline" in text
    assert "Maria Head Attested as manager." in text


def test_the_case_page_query_count_does_not_grow_with_the_timeline(case, cast, as_user, django_assert_max_num_queries):
    client = as_user(cast.hr)
    client.get(detail(case.pk))  # warm the content types and the session
    with CaptureQueriesContext(connection) as short:
        client.get(detail(case.pk))
    for n in range(12):
        EvidenceFactory(
            owner=cast.dana_employee, status=EvidenceStatus.VERIFIED, submitted_at=timezone.now(), title=f"Story {n}"
        )
    as_user(cast.manager).post(reverse("portal:case-attest", args=[case.pk]), {"attest-role": "manager"})
    request_exception(as_user(cast.manager), case)

    with django_assert_max_num_queries(32):
        response = client.get(detail(case.pk))

    assert response.status_code == 200
    assert page_text(response).count("Submitted evidence") == 12
    with CaptureQueriesContext(connection) as long:
        client.get(detail(case.pk))
    assert len(long.captured_queries) <= len(short.captured_queries) + 2  # the exception's waived requirements
