"""Stored evaluations: each open case's result per requirement, written by the services that change its inputs,
removed at decision, and refreshed by the nightly sweep for date windows."""

import datetime as dt
import io

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.cases.evaluations import evaluations_sweep
from apps.cases.models import Case, CaseRequirementResult
from apps.cases.selectors import case_checklist
from apps.cases.services import (
    case_attest,
    case_attestation_withdraw,
    case_link_evidence,
    case_open,
    case_open_many,
    case_step_decide,
    case_withdraw,
)
from apps.cases.tasks import sweep_evaluations
from apps.evidence.constants import EvidenceStatus
from apps.evidence.services import (
    evidence_correct,
    evidence_reject,
    evidence_revoke,
    evidence_submit,
    evidence_verify,
)
from apps.policies.models import Requirement
from tests.factories.cases import CycleFactory
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory

pytestmark = pytest.mark.django_db


def stored(case):
    """(requirement label-free) results of a case: {requirement id: (met, have, need, counted ids)}."""
    return {
        row.requirement_id: (row.met, row.have, row.need, row.counted_ids)
        for row in CaseRequirementResult.objects.filter(case=case)
    }


def live(case):
    evaluation = case_checklist(Case.objects.get(pk=case.pk), today=timezone.localdate())
    return {r.requirement_id: (r.met, r.have, r.need, list(r.counted_ids)) for r in evaluation.results}


def story_id(baseline):
    return baseline.requirements.get().pk


def test_opening_stores_each_requirement_result(cycle, org, baseline):
    story = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)

    case = case_open(cycle=cycle, subject_employee=org["dana"])

    assert stored(case) == {story_id(baseline): (True, 1, 1, [story.pk])}
    row = CaseRequirementResult.objects.get(case=case)
    assert (row.cycle_id, row.as_of) == (cycle.pk, timezone.localdate())
    assert Case.objects.get(pk=case.pk).compliant is True


def test_a_verified_item_is_stored_on_the_subjects_open_cases(cycle, org, baseline, django_capture_on_commit_callbacks):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    assert stored(case) == {story_id(baseline): (False, 0, 1, [])}
    story = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.SUBMITTED)

    with django_capture_on_commit_callbacks(execute=True):
        evidence_verify(evidence=story, by=org["manager"].user)

    assert stored(case) == {story_id(baseline): (True, 1, 1, [story.pk])} == live(case)
    assert Case.objects.get(pk=case.pk).compliant is True


def test_a_revoked_verification_stops_counting_at_once(cycle, org, baseline, django_capture_on_commit_callbacks):
    story = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    with django_capture_on_commit_callbacks(execute=True):
        evidence_revoke(evidence=story, by=org["hr_a"], comment="The customer quote was invented.")

    assert stored(case) == {story_id(baseline): (False, 0, 1, [])} == live(case)
    assert Case.objects.get(pk=case.pk).compliant is False


def test_a_verified_correction_counts_in_place_of_the_old_version(
    cycle, org, baseline, django_capture_on_commit_callbacks
):
    story = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    dana = org["dana"].user

    with django_capture_on_commit_callbacks(execute=True):
        correction = evidence_correct(evidence=story, by=dana)
        evidence_submit(evidence=correction, by=dana)
        evidence_verify(evidence=correction, by=org["manager"].user, acknowledge_flags=True)

    assert stored(case) == {story_id(baseline): (True, 1, 1, [correction.pk])} == live(case)


def test_attesting_and_withdrawing_rewrite_the_attestation_result(attesting_cycle, org):
    case = case_open(cycle=attesting_cycle, subject_employee=org["dana"])
    manager = org["manager"].user
    attestation_requirement = Requirement.objects.get(version__pinned_cases=case, kind="attestation").pk

    attestation = case_attest(case=case, by=manager, role="manager", note="Seen it first hand.")
    assert stored(case)[attestation_requirement][0] is True
    assert stored(case) == live(case)

    case_attestation_withdraw(attestation=attestation, by=manager, note="Attested on the wrong case.")
    assert stored(case)[attestation_requirement][0] is False
    assert stored(case) == live(case)


def test_linking_evidence_to_a_candidate_case_stores_it(hiring_cycle, org):
    nominator = EmployeeFactory(org_unit=org["unit"])
    case = case_open(
        cycle=hiring_cycle, candidate_name="Ola Berg", candidate_email="ola@example.com", nominated_by=nominator
    )
    item = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    (requirement_id,) = stored(case)

    case_link_evidence(case=case, evidence=item, by=org["hr_a"])

    assert stored(case) == {requirement_id: (True, 1, 1, [item.pk])} == live(case)


def test_a_decided_case_keeps_its_frozen_evaluation_and_no_stored_rows(cycle, org, baseline):
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    dana, other = case_open_many(
        cycle=cycle, subjects=[{"subject_employee": org["dana"]}, {"subject_employee": org["manager"]}]
    )

    case_step_decide(case=dana, by=org["hr_a"], decision="approve", comment="Criteria met.")
    case_withdraw(case=other, by=org["hr_a"], note="Nominated by mistake.")

    assert not CaseRequirementResult.objects.filter(case__in=[dana, other]).exists()
    frozen = Case.objects.get(pk=dana.pk).frozen_evaluation
    assert [(r["requirement_id"], r["met"]) for r in frozen["results"]] == [(story_id(baseline), True)]


def test_a_refresh_that_changes_nothing_leaves_the_case_row_alone(cycle, org, django_capture_on_commit_callbacks):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    pending = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.SUBMITTED)
    updates = AuditEvent.objects.filter(object_type="cases.case", object_id=str(case.pk), action="update")
    before = updates.count()

    with django_capture_on_commit_callbacks(execute=True):
        evidence_reject(evidence=pending, by=org["manager"].user, comment="Not a customer of ours.")

    assert updates.count() == before  # re-evaluated, still short: no event on the case
    assert CaseRequirementResult.objects.get(case=case).evaluated_at > Case.objects.get(pk=case.pk).evaluated_at


def test_the_sweep_catches_evidence_ageing_out_of_its_window(cycle, org, baseline):
    today = timezone.localdate()
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED, impact_date=today - dt.timedelta(days=360))
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    assert stored(case)[story_id(baseline)][0] is True

    with time_machine.travel(timezone.now() + dt.timedelta(days=10), tick=False):
        assert stored(case)[story_id(baseline)][0] is True  # nothing changed the inputs: the row waits for the sweep
        result = evaluations_sweep()

        assert (result.examined, result.changed) == (1, 1)
        assert stored(case) == {story_id(baseline): (False, 0, 1, [])} == live(case)
        assert CaseRequirementResult.objects.get(case=case).as_of == today + dt.timedelta(days=10)
    assert Case.objects.get(pk=case.pk).compliant is False


def test_the_sweep_takes_the_same_queries_per_batch_whatever_its_size(org, baseline, django_assert_max_num_queries):
    def open_cases(n):
        cycle = CycleFactory()
        people = [EmployeeFactory(org_unit=org["unit"]) for _ in range(n)]
        for person in people[::2]:
            EvidenceFactory(owner=person, status=EvidenceStatus.VERIFIED)
        case_open_many(cycle=cycle, subjects=[{"subject_employee": person} for person in people])
        return cycle

    counts = []
    for n in (3, 40):
        cycle = open_cases(n)
        with django_assert_max_num_queries(20) as captured:
            evaluations_sweep(cycle_id=cycle.pk)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    assert CaseRequirementResult.objects.count() == 43


def test_the_sweep_works_through_batches(cycle, org, baseline):
    people = [EmployeeFactory(org_unit=org["unit"]) for _ in range(7)]
    cases = case_open_many(cycle=cycle, subjects=[{"subject_employee": person} for person in people])
    CaseRequirementResult.objects.all().delete()

    result = evaluations_sweep(batch_size=3)

    assert (result.examined, result.changed) == (7, 0)
    assert CaseRequirementResult.objects.filter(case__in=cases).count() == 7


def test_refresh_evaluations_command_stores_the_open_cases(cycle, org, baseline):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    CaseRequirementResult.objects.all().delete()

    out = io.StringIO()
    call_command("refresh_evaluations", "--cycle", str(cycle.pk), stdout=out)

    assert out.getvalue().strip() == f"Re-evaluated 1 open cases (cycle {cycle.pk}); 0 changed compliance."
    assert stored(case) == live(case)


def test_refresh_evaluations_command_refuses_an_unknown_cycle(db):
    with pytest.raises(CommandError, match="No cycle with id 987654"):
        call_command("refresh_evaluations", "--cycle", "987654")


def test_the_nightly_task_sweeps_and_is_on_the_beat_schedule(cycle, org, baseline):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    CaseRequirementResult.objects.all().delete()

    assert sweep_evaluations() == 0
    assert stored(case) == live(case)
    entry = settings.CELERY_BEAT_SCHEDULE["cases-sweep-evaluations"]
    assert entry["task"] == "cases.sweep_evaluations"


def test_a_verified_correction_of_a_linked_item_refreshes_the_case_that_linked_it(
    hiring_cycle, org, django_capture_on_commit_callbacks
):
    nominator = EmployeeFactory(org_unit=org["unit"])
    case = case_open(
        cycle=hiring_cycle, candidate_name="Ola Berg", candidate_email="ola@example.com", nominated_by=nominator
    )
    item = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    case_link_evidence(case=case, evidence=item, by=org["hr_a"])
    dana = org["dana"].user

    with django_capture_on_commit_callbacks(execute=True):
        correction = evidence_correct(evidence=item, by=dana)
        evidence_submit(evidence=correction, by=dana)
        evidence_verify(evidence=correction, by=org["manager"].user, acknowledge_flags=True)

    # The link names the old version, which no longer counts once its correction is verified.
    assert stored(case) == live(case)
    assert [met for met, *_ in stored(case).values()] == [False]
