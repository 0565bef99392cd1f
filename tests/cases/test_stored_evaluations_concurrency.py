"""On PostgreSQL: stored evaluations stay right when reviews and decisions of one case run at the same moment."""

import pytest

from apps.cases.models import Case, CaseRequirementResult
from apps.cases.services import case_open, case_step_decide
from apps.evidence.constants import EvidenceStatus
from apps.evidence.services import evidence_verify
from tests.cases.test_concurrency import run_together
from tests.factories.evidence import EvidenceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("attempt", range(3))
def test_two_reviews_at_once_both_count_in_the_stored_result(cycle, org, attempt):
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    first, second = (EvidenceFactory(owner=org["dana"], status=EvidenceStatus.SUBMITTED) for _ in range(2))

    outcomes = run_together(
        lambda: evidence_verify(evidence=first, by=org["manager"].user),
        lambda: evidence_verify(evidence=second, by=org["hr_a"]),
    )

    assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    row = CaseRequirementResult.objects.get(case=case)
    assert (row.met, row.have, sorted(row.counted_ids)) == (True, 2, sorted([first.pk, second.pk]))
    assert Case.objects.get(pk=case.pk).compliant is True


@pytest.mark.parametrize("attempt", range(3))
def test_a_review_during_the_decision_leaves_no_stored_rows_on_the_decided_case(cycle, org, attempt):
    EvidenceFactory(owner=org["dana"], status=EvidenceStatus.VERIFIED)
    case = case_open(cycle=cycle, subject_employee=org["dana"])
    pending = EvidenceFactory(owner=org["dana"], status=EvidenceStatus.SUBMITTED)

    outcomes = run_together(
        lambda: case_step_decide(case=case, by=org["hr_a"], decision="approve"),
        lambda: evidence_verify(evidence=pending, by=org["manager"].user),
    )

    assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    case.refresh_from_db()
    assert not case.is_open
    assert not CaseRequirementResult.objects.filter(case=case).exists()  # the frozen evaluation speaks for it
