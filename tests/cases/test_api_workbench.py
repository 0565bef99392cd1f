"""The HR workbench's steps over the API: withdrawing an attestation, opening a case, and the case timeline."""

import pytest
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.audit.personal import reveal
from apps.cases.constants import CaseAuditAction, CaseStatus, CycleStatus
from apps.cases.models import Attestation, Case
from apps.cases.services import case_attest, case_open, case_withdraw
from apps.evidence.constants import EvidenceStatus
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTE = {"note": "Attested on the wrong case."}


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def case(attesting_cycle, org):
    return case_open(cycle=attesting_cycle, subject_employee=org["dana"], nominated_by=org["manager"])


@pytest.fixture
def attestation(case, org):
    return case_attest(case=case, by=org["manager"].user, role="manager", note="Seen it every week.")


def withdraw_url(case, attestation_id):
    return f"/api/cases/{case.pk}/attestations/{attestation_id}/withdraw/"


def manager_row(body):
    return next(row for row in body["checklist"] if row["label"] == "Manager attests")


# ---------------------------------------------------------------------------------------- withdraw an attestation


def test_case_detail_lists_the_attestations_with_the_id_to_withdraw_them(case, attestation, org):
    body = client_for(org["dana"].user).get(f"/api/cases/{case.pk}/").json()

    [row] = body["attestations"]
    assert row["id"] == attestation.pk
    assert row["role"] == "manager" and row["by"] == "manager" and row["note"] == "Seen it every week."
    assert row["at"]
    assert manager_row(body)["met"] is True


def test_the_attester_withdraws_with_a_note_and_the_requirement_is_unmet_again(case, attestation, org):
    response = client_for(org["manager"].user).post(withdraw_url(case, attestation.pk), NOTE, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["attestations"] == []
    assert manager_row(body)["met"] is False
    assert not Attestation.objects.exists()
    event = AuditEvent.objects.get(action=CaseAuditAction.ATTESTATION_WITHDRAWN)
    assert reveal(event.context["note"]) == NOTE["note"]


def test_hr_may_withdraw_someone_elses_attestation(case, attestation, org):
    response = client_for(org["hr_a"]).post(withdraw_url(case, attestation.pk), NOTE, format="json")

    assert response.status_code == 200
    assert not Attestation.objects.exists()


def test_withdrawing_without_a_note_is_a_note_error_and_keeps_the_attestation(case, attestation, org):
    manager = client_for(org["manager"].user)

    missing = manager.post(withdraw_url(case, attestation.pk), {}, format="json")
    blank = manager.post(withdraw_url(case, attestation.pk), {"note": "   "}, format="json")

    assert missing.status_code == 400 and "note" in missing.json()
    assert blank.status_code == 400 and "note" in blank.json()
    assert Attestation.objects.filter(pk=attestation.pk).exists()


def test_the_subject_cannot_withdraw_their_managers_attestation(case, attestation, org):
    response = client_for(org["dana"].user).post(withdraw_url(case, attestation.pk), NOTE, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "Only the person who attested or HR can withdraw an attestation."
    assert Attestation.objects.filter(pk=attestation.pk).exists()
    assert AuditEvent.objects.filter(action=CaseAuditAction.ATTESTATION_WITHDRAWAL_REFUSED).count() == 1


def test_a_case_you_cannot_see_or_an_attestation_of_another_case_is_404(case, attestation, org, attesting_cycle):
    peer = EmployeeFactory(org_unit=org["unit"], manager=org["manager"], user=UserFactory(username="peer"))
    other_case = case_open(cycle=attesting_cycle, subject_employee=peer)
    other = case_attest(case=other_case, by=org["manager"].user, role="manager")

    hidden = client_for(peer.user).post(withdraw_url(case, attestation.pk), NOTE, format="json")
    elsewhere = client_for(org["hr_a"]).post(withdraw_url(case, other.pk), NOTE, format="json")

    assert hidden.status_code == 404
    assert elsewhere.status_code == 404
    assert elsewhere.json()["detail"] == "This case has no attestation with that id."
    assert Attestation.objects.count() == 2


def test_withdrawing_twice_is_a_409(case, attestation, org):
    manager = client_for(org["manager"].user)
    assert manager.post(withdraw_url(case, attestation.pk), NOTE, format="json").status_code == 200

    again = manager.post(withdraw_url(case, attestation.pk), NOTE, format="json")

    assert again.status_code == 409
    assert again.json()["detail"] == "This attestation has already been withdrawn."


def test_withdrawing_on_a_decided_case_is_a_409_and_keeps_the_attestation(case, attestation, org):
    case_withdraw(case=case, by=org["hr_a"], note="Nominated by mistake.")

    response = client_for(org["manager"].user).post(withdraw_url(case, attestation.pk), NOTE, format="json")

    assert response.status_code == 409
    assert "decided cases are read-only" in response.json()["detail"]
    assert Attestation.objects.filter(pk=attestation.pk).exists()


# ---------------------------------------------------------------------------------------- open a case


def open_url(cycle):
    return f"/api/cycles/{cycle.pk}/cases/"


def test_hr_opens_a_case_for_an_employee_named_by_their_number(cycle, org):
    body = {"subject_employee": org["dana"].employee_number, "nominated_by": org["manager"].employee_number}

    response = client_for(org["hr_a"]).post(open_url(cycle), body, format="json")

    assert response.status_code == 201
    created = response.json()
    assert created["subject"] == "Dana Okafor" and created["status"] == CaseStatus.OPEN
    assert created["checklist"][0]["label"] == "One customer story"
    case = Case.objects.get(pk=created["id"])
    assert case.subject_employee == org["dana"] and case.nominated_by == org["manager"]
    assert case.pinned_versions.count() == 1


def test_only_hr_opens_cases(cycle, org):
    body = {"subject_employee": org["dana"].employee_number}

    response = client_for(org["manager"].user).post(open_url(cycle), body, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "Only HR can open cases."
    assert not Case.objects.exists()


def test_a_second_live_case_for_the_same_person_is_refused_and_nothing_is_written(cycle, org):
    case_open(cycle=cycle, subject_employee=org["dana"])

    response = client_for(org["hr_a"]).post(
        open_url(cycle), {"subject_employee": org["dana"].employee_number}, format="json"
    )

    assert response.status_code == 400
    assert "already has a case" in response.json()["subject"][0]
    assert Case.objects.count() == 1
    assert AuditEvent.objects.filter(action=CaseAuditAction.CASE_OPENING_REFUSED).count() == 1


def test_unknown_numbers_are_errors_next_to_their_field(cycle, org):
    response = client_for(org["hr_a"]).post(
        open_url(cycle), {"subject_employee": "E-NOBODY", "nominated_by": "E-NOONE"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "subject_employee": ["No employee numbered 'E-NOBODY'."],
        "nominated_by": ["No active employee numbered 'E-NOONE'."],
    }
    assert not Case.objects.exists()


def test_a_subject_of_the_wrong_kind_is_refused(cycle, org):
    response = client_for(org["hr_a"]).post(open_url(cycle), {"subject_unit": org["unit"].code}, format="json")

    assert response.status_code == 400
    assert "cases are about an employee" in response.json()["subject_employee"][0]
    assert not Case.objects.exists()


def test_a_hiring_case_needs_the_candidates_email(hiring_cycle, org):
    hr = client_for(org["hr_a"])
    body = {"candidate_name": "Ada Lovelace", "nominated_by": org["manager"].employee_number}

    refused = hr.post(open_url(hiring_cycle), body, format="json")
    opened = hr.post(open_url(hiring_cycle), {**body, "candidate_email": "ada@example.com"}, format="json")

    assert refused.status_code == 400
    assert refused.json()["candidate_email"] == ["Give Ada Lovelace's e-mail address."]
    assert opened.status_code == 201
    assert opened.json()["subject"] == "Ada Lovelace" and opened.json()["subject_kind"] == "candidate"
    assert Case.objects.count() == 1


def test_a_closed_cycle_opens_no_case(cycle, org):
    cycle.status = CycleStatus.CLOSED
    cycle.save()

    response = client_for(org["hr_a"]).post(
        open_url(cycle), {"subject_employee": org["dana"].employee_number}, format="json"
    )

    assert response.status_code == 400
    assert "cases open only in an open cycle" in response.json()["cycle"][0]
    assert not Case.objects.exists()


def test_opening_in_no_such_cycle_is_404(org):
    response = client_for(org["hr_a"]).post("/api/cycles/999999/cases/", {}, format="json")

    assert response.status_code == 404


# ---------------------------------------------------------------------------------------- the timeline


def test_the_timeline_tells_the_case_oldest_first(case, attestation, org):
    client_for(org["manager"].user).post(withdraw_url(case, attestation.pk), NOTE, format="json")

    response = client_for(org["hr_a"]).get(f"/api/cases/{case.pk}/timeline/")

    assert response.status_code == 200
    entries = response.json()
    assert entries[0]["kind"] == "opened" and entries[0]["text"].startswith("Case opened")
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert any(e["text"] == f"Withdrew the manager attestation: “{NOTE['note']}”" for e in entries)
    assert set(entries[0]) == {"at", "actor", "kind", "text", "url", "internal"}


def test_the_subject_does_not_see_internal_entries(case, attestation, org):
    # Dana's refused attempt is on the trail: HR sees it on the timeline, Dana does not.
    client_for(org["dana"].user).post(withdraw_url(case, attestation.pk), NOTE, format="json")

    for_hr = client_for(org["hr_a"]).get(f"/api/cases/{case.pk}/timeline/").json()
    for_dana = client_for(org["dana"].user).get(f"/api/cases/{case.pk}/timeline/").json()

    assert any(entry["internal"] for entry in for_hr)
    assert not any(entry["internal"] for entry in for_dana)
    assert len(for_dana) < len(for_hr)


def test_the_timeline_of_a_case_you_cannot_see_is_404(case, org):
    peer = EmployeeFactory(org_unit=org["unit"], manager=org["manager"], user=UserFactory(username="peer"))

    assert client_for(peer.user).get(f"/api/cases/{case.pk}/timeline/").status_code == 404
    assert APIClient().get(f"/api/cases/{case.pk}/timeline/").status_code == 401


TIMELINE_QUERIES = 11


def test_the_timeline_costs_a_fixed_number_of_queries(case, attestation, org, django_assert_max_num_queries):
    hr = client_for(org["hr_a"])
    with django_assert_max_num_queries(TIMELINE_QUERIES):
        short = hr.get(f"/api/cases/{case.pk}/timeline/")

    for number in range(8):
        EvidenceFactory(
            owner=org["dana"], title=f"Story {number}", status=EvidenceStatus.SUBMITTED, submitted_at=case.opened_at
        )
    hr.post(withdraw_url(case, attestation.pk), NOTE, format="json")
    case_attest(case=case, by=org["manager"].user, role="manager", note="Again, on the right case.")
    client_for(org["dana"].user).post(f"/api/cases/{case.pk}/decide/", {"decision": "approve"}, format="json")
    with django_assert_max_num_queries(TIMELINE_QUERIES):
        long = hr.get(f"/api/cases/{case.pk}/timeline/")

    assert len(long.json()) >= len(short.json()) + 10
