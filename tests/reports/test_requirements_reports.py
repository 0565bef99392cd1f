"""The unmet-requirements ranking (frozen evaluations of decided cases, stored evaluations of open ones) and the
requirements inventory."""

import pytest
from django.utils import timezone

from apps.cases.evaluations import evaluations_sweep
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.org.selectors import org_tree_get
from apps.reports.filters import ReportFilters
from apps.reports.selectors import requirements_inventory, unmet_requirements
from tests.reports.conftest import grow

pytestmark = pytest.mark.django_db


def ranking(company, **filters):
    return unmet_requirements(filters=ReportFilters(**filters), tree=org_tree_get(), today=company.today)


def test_requirements_are_ranked_by_the_cases_they_block(company):
    story, kpi = ranking(company)

    assert story.requirement_id == company.story.pk
    assert (story.label, story.policy, story.ritual) == ("One customer story", "Baseline", "Promotion")
    # Decided: A met, B waived, C met, D rejected short; withdrawn E aside. Open: F met, G met, H short.
    assert (story.decided_judged, story.waived, story.rejected_unmet) == (4, 1, 1)
    assert (story.open_judged, story.open_blocked) == (3, 1)
    assert (story.blocked, story.judged) == (3, 7)
    assert story.blocked_share == pytest.approx(3 / 7)
    # Front desk's KPI: A met, B waived; F (open) short.
    assert (kpi.policy, kpi.decided_judged, kpi.waived, kpi.open_judged, kpi.open_blocked) == ("Front desk", 2, 1, 1, 1)
    assert kpi.blocked == 2


def test_open_cases_are_counted_from_their_stored_evaluation(company):
    # Gus's story gets verified without the review workflow: no service refreshes H, so the ranking still counts
    # it short until the nightly sweep re-evaluates the open cases.
    Evidence.objects.filter(title="Gus story").audited_update(status=EvidenceStatus.VERIFIED)
    story, _ = ranking(company)
    assert story.open_blocked == 1

    evaluations_sweep()

    story, _ = ranking(company)
    assert (story.open_judged, story.open_blocked) == (3, 0)


def test_ranking_follows_the_filters(company):
    (story,) = ranking(company, unit_id=company.units["payroll"].pk)
    assert (story.decided_judged, story.rejected_unmet, story.open_judged, story.open_blocked) == (2, 1, 1, 0)

    h2 = {row.label: (row.open_blocked, row.decided_judged) for row in ranking(company, cycle_id=company.h2.pk)}
    assert h2 == {"One customer story": (1, 0), "One operational KPI": (1, 0)}


def test_ranking_runs_a_fixed_number_of_queries(company, django_assert_num_queries):
    tree = org_tree_get()
    counts = []
    for _ in range(2):
        with django_assert_num_queries(4) as captured:  # decided 1, stored 1, requirements 1, category names 1
            unmet_requirements(filters=ReportFilters(), tree=tree, today=company.today)
        counts.append(len(captured.captured_queries))
        grow(company, 25)
    assert counts[0] == counts[1]


def test_inventory_lists_what_groups_add_to_the_baseline(company):
    rows = requirements_inventory(filters=ReportFilters(), tree=org_tree_get(), today=timezone.localdate())

    assert [(row.org_unit, row.description, row.shared_by, row.in_baseline) for row in rows] == [
        ("Front desk", "One operational KPI", 1, False)
    ]
    finance_only = requirements_inventory(
        filters=ReportFilters(unit_id=company.units["finance"].pk), tree=org_tree_get(), today=timezone.localdate()
    )
    assert finance_only == []
