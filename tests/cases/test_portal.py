"""My cases in the portal: the subject sees their checklist and what to add; managers see their team's."""

import pytest
from django.urls import reverse

from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.cases.services import case_open
from apps.evidence.constants import EvidenceStatus
from tests.factories.cases import two_step_route
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(cycle, org):
    return case_open(cycle=cycle, subject_employee=org["dana"])


def page_for(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_subject_sees_own_case_with_what_is_missing_and_a_way_to_add_it(client, case, org):
    response = page_for(client, org["dana"].user, reverse("portal:case-detail", args=[case.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "One customer story" in page and "Not met" in page
    assert "<strong>0 of 1</strong> requirements met" in page
    assert "Add evidence for what is missing" in page


def test_counted_evidence_is_linked_from_the_checklist(client, case, org):
    story = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED, title="Rebuilt the booking form")

    page = page_for(client, org["dana"].user, reverse("portal:case-detail", args=[case.pk])).content.decode()

    assert "Meets the policy" in page
    assert reverse("portal:evidence-detail", args=[story.pk]) in page


def test_my_cases_lists_own_and_team_cases(client, case, org, cycle):
    report = EmployeeFactory(org_unit=org["unit"], manager=org["manager"], full_name="Ravi Menon")
    case_open(cycle=cycle, subject_employee=report)

    mine = page_for(client, org["dana"].user, reverse("portal:my-cases")).content.decode()
    assert "Dana Okafor" in mine and "Ravi Menon" not in mine

    team = page_for(client, org["director"].user, reverse("portal:my-cases")).content.decode()
    assert "Dana Okafor" in team and "Ravi Menon" in team


def test_a_peer_gets_404_for_someone_elses_case(client, case, org):
    peer = EmployeeFactory(org_unit=org["unit"], manager=org["manager"], user=UserFactory(username="peer"))
    assert page_for(client, peer.user, reverse("portal:case-detail", args=[case.pk])).status_code == 404


def test_manager_recommends_from_the_case_page_and_hr_cannot_skip_ahead(client, case, org, promotion):
    two_step_route(promotion)
    url = reverse("portal:case-decide", args=[case.pk])

    client.force_login(org["hr_a"])
    refused = client.post(url, {"decision": "approve"})
    assert refused.status_code == 403
    assert "waits for" in refused.content.decode()

    client.force_login(org["manager"].user)
    page = client.get(reverse("portal:case-detail", args=[case.pk])).content.decode()
    assert "Record decision" in page
    client.post(url, {"decision": "approve", "comment": "Recommend", "confirm": "yes"})
    assert case.step_records.get().step_name == "Manager recommends"


def test_approval_that_fails_the_gate_shows_the_reason(client, case, org):
    client.force_login(org["hr_a"])
    response = client.post(reverse("portal:case-decide", args=[case.pk]), {"decision": "approve"})

    assert response.status_code == 400
    assert "does not meet its policy" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN


def test_decide_is_post_only(client, case, org):
    client.force_login(org["hr_a"])
    assert client.get(reverse("portal:case-decide", args=[case.pk])).status_code == 405


def test_my_cases_query_count_is_flat(client, cycle, org, django_assert_max_num_queries):
    for _ in range(20):
        case_open(cycle=cycle, subject_employee=EmployeeFactory(org_unit=org["unit"], manager=org["manager"]))
    client.force_login(org["manager"].user)

    with django_assert_max_num_queries(25):
        response = client.get(reverse("portal:my-cases"))

    assert response.content.decode().count("requirements met") == 20


def test_my_cases_empty_state(client, org):
    page = page_for(client, org["dana"].user, reverse("portal:my-cases")).content.decode()
    assert "You have no case yet" in page
