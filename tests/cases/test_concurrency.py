"""On PostgreSQL: the decision gate holds under concurrent approvals and reviews."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection

from apps.cases.constants import CaseStatus
from apps.cases.models import Case, StepRecord
from apps.cases.services import case_open, case_step_decide
from apps.common.errors import InvalidTransition
from apps.evidence.constants import EvidenceStatus
from apps.evidence.services import evidence_revoke
from tests.factories.evidence import EvidenceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*calls):
    """Run the calls in threads released at the same moment; return each call's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def worker(index, call):
        close_old_connections()
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_two_concurrent_approvals_give_one_decision(cycle, org):
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    outcomes = run_together(
        lambda: case_step_decide(case=case, by=org["hr_a"], decision="approve"),
        lambda: case_step_decide(case=case, by=org["hr_b"], decision="approve"),
    )

    winners = [o for o in outcomes if isinstance(o, Case)]
    losers = [o for o in outcomes if isinstance(o, InvalidTransition | PermissionDenied)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert Case.objects.get(pk=case.pk).status == CaseStatus.APPROVED
    assert StepRecord.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_evidence_revoked_during_approval_leaves_a_consistent_outcome(cycle, org, attempt):
    story = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    case = case_open(cycle=cycle, subject_employee=org["dana"])

    outcomes = run_together(
        lambda: case_step_decide(case=case, by=org["hr_a"], decision="approve"),
        lambda: evidence_revoke(evidence=story, by=org["hr_b"], comment="The ticket shows another agent did this."),
    )

    case.refresh_from_db()
    story.refresh_from_db()
    assert story.status == EvidenceStatus.REJECTED, outcomes
    approval = outcomes[0]
    if isinstance(approval, Case):
        # The approval locked the evidence first, saw the story verified and froze that.
        assert case.status == CaseStatus.APPROVED
        assert case.frozen_evaluation["results"][0]["counted_ids"] == [story.pk]
    else:
        # The revocation committed first: the approval saw no verified story and refused.
        assert isinstance(approval, ValidationError), outcomes
        assert case.status == CaseStatus.OPEN
