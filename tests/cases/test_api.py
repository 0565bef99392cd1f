"""The cases API: visibility, checklists, and decisions with the same rules as everywhere."""

import pytest
from rest_framework.test import APIClient

from apps.cases.constants import CaseStatus
from apps.cases.services import case_open
from apps.common.roles import Role, ensure_role_groups
from apps.evidence.constants import EvidenceStatus
from tests.factories.cases import two_step_route
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def case(cycle, org):
    return case_open(cycle=cycle, subject_employee=org["dana"])


def ids(response):
    return {row["id"] for row in response.json()["results"]}


def test_subject_manager_chain_and_hr_see_the_case_a_peer_does_not(case, org):
    peer = EmployeeFactory(org_unit=org["unit"], manager=org["manager"], user=UserFactory(username="peer"))
    leader = UserFactory(username="leader")
    leader.groups.add(ensure_role_groups()[Role.LEADERSHIP])

    for user in (org["dana"].user, org["manager"].user, org["director"].user, org["hr_a"], leader):
        assert ids(client_for(user).get("/api/cases/")) == {case.pk}, user
    assert ids(client_for(peer.user).get("/api/cases/")) == set()
    assert client_for(peer.user).get(f"/api/cases/{case.pk}/").status_code == 404
    assert APIClient().get("/api/cases/").status_code in (401, 403)


def test_detail_carries_the_live_checklist(case, org):
    story = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)

    body = client_for(org["dana"].user).get(f"/api/cases/{case.pk}/").json()

    assert body["compliant"] is True
    [row] = body["checklist"]
    assert row["label"] == "One customer story"
    assert row["met"] is True and row["have"] == 1 and row["need"] == 1
    assert row["counted_ids"] == [story.pk]
    assert row["reason"].startswith("Met")


def test_list_query_count_does_not_grow_with_cases(cycle, org, django_assert_max_num_queries):
    for _ in range(25):
        case_open(cycle=cycle, subject_employee=EmployeeFactory(org_unit=org["unit"], manager=org["manager"]))

    with django_assert_max_num_queries(14):
        response = client_for(org["hr_a"]).get("/api/cases/")

    assert response.json()["count"] == 25
    assert all(row["requirements_total"] == 1 for row in response.json()["results"])


def test_the_case_list_walks_in_cursor_pages_without_counting(cycle, org):
    opened = [
        case_open(cycle=cycle, subject_employee=EmployeeFactory(org_unit=org["unit"], manager=org["manager"]))
        for _ in range(7)
    ]
    client = client_for(org["hr_a"])

    seen, url = [], "/api/cases/?cursor=&page_size=3"
    while url:
        body = client.get(url).json()
        assert "count" not in body and len(body["results"]) <= 3
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    newest_first = sorted(opened, key=lambda case: (case.opened_at, case.pk), reverse=True)
    assert seen == [case.pk for case in newest_first]
    assert client.get("/api/cases/?cursor=not-a-cursor").status_code == 400


def test_approve_of_a_short_case_is_a_400_listing_what_is_missing(case, org):
    response = client_for(org["hr_a"]).post(f"/api/cases/{case.pk}/decide/", {"decision": "approve"}, format="json")

    assert response.status_code == 400
    assert "One customer story (0 of 1)" in response.json()["non_field_errors"][0]


def test_wrong_step_is_403_and_decided_case_is_409(case, org, promotion):
    two_step_route(promotion)
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    hr = client_for(org["hr_a"])

    assert hr.post(f"/api/cases/{case.pk}/decide/", {"decision": "approve"}, format="json").status_code == 403
    manager = client_for(org["manager"].user)
    assert manager.post(f"/api/cases/{case.pk}/decide/", {"decision": "approve"}, format="json").status_code == 200
    done = hr.post(f"/api/cases/{case.pk}/decide/", {"decision": "approve"}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == CaseStatus.APPROVED
    assert [step["step"] for step in done.json()["steps"]] == ["Manager recommends", "HR approves"]
    again = hr.post(f"/api/cases/{case.pk}/withdraw/", {"note": "Oops, wrong person"}, format="json")
    assert again.status_code == 409


def test_invalid_decision_and_missing_note_are_field_errors(case, org):
    hr = client_for(org["hr_a"])

    bad = hr.post(f"/api/cases/{case.pk}/decide/", {"decision": "maybe"}, format="json")
    assert bad.status_code == 400 and "decision" in bad.json()
    no_note = hr.post(f"/api/cases/{case.pk}/decide/", {"decision": "reject"}, format="json")
    assert no_note.status_code == 400 and "note" in no_note.json()


def test_exception_flow_over_the_api_with_four_eyes(case, org):
    requirement_id = case.pinned_versions.get().requirements.get().pk
    justification = "Dana ran the migration alone; her customer stories were never written down this year."

    created = client_for(org["manager"].user).post(
        f"/api/cases/{case.pk}/exceptions/",
        {"justification": justification, "waived_requirements": [requirement_id]},
        format="json",
    )
    assert created.status_code == 201
    exception_id = created.json()["id"]
    assert (
        client_for(org["manager"].user)
        .post(f"/api/exceptions/{exception_id}/decide/", {"grant": True}, format="json")
        .status_code
        == 403
    )
    assert (
        client_for(org["hr_a"])
        .post(f"/api/exceptions/{exception_id}/decide/", {"grant": True}, format="json")
        .status_code
        == 200
    )

    approved = client_for(org["hr_b"]).post(f"/api/cases/{case.pk}/decide/", {"decision": "approve"}, format="json")
    assert approved.json()["status"] == CaseStatus.APPROVED_WITH_EXCEPTION


def test_short_justification_is_a_field_error(case, org):
    requirement_id = case.pinned_versions.get().requirements.get().pk
    response = client_for(org["hr_a"]).post(
        f"/api/cases/{case.pk}/exceptions/", {"justification": "Trust me.", "waived_requirements": [requirement_id]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400 and "justification" in response.json()


def test_filters_reject_unknown_values(case, org):
    hr = client_for(org["hr_a"])
    assert hr.get("/api/cases/?status=pending").status_code == 400
    assert ids(hr.get("/api/cases/?status=open")) == {case.pk}
    assert ids(hr.get("/api/cases/?ritual_type=bonus")) == set()


def test_cycles_are_listed(cycle, org):
    body = client_for(org["dana"].user).get("/api/cycles/").json()
    assert [row["name"] for row in body["results"]] == [cycle.name]
