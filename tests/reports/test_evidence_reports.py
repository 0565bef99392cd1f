"""Evidence mix, review health and the boundary report, against the fixture worked out by hand."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.evidence.constants import EvidenceStatus
from apps.org.selectors import org_tree_get
from apps.reports.filters import ReportFilters
from apps.reports.selectors import boundary_report, evidence_mix, review_health
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import OrgUnitFactory
from tests.reports.conftest import grow

pytestmark = pytest.mark.django_db


def mix(**filters):
    return evidence_mix(filters=ReportFilters(**filters), tree=org_tree_get())


def slices(rows):
    return {row.key: (row.items, row.verified, row.share) for row in rows}


def test_evidence_mix_by_category_metric_and_customer(company):
    result = mix()

    # Current items not in draft: ann story, ann KPI, cat story, fay story, bob story (rejected), fay score and
    # gus story (both submitted). Gus's draft never counts. Verified: the first four.
    assert (result.items, result.verified) == (7, 4)
    assert slices(result.categories) == {
        "customer_story": (5, 3, 0.75),
        "operational_kpi": (1, 1, 0.25),
        "outcome_score": (1, 0, 0.0),
    }
    assert slices(result.metrics) == {"none": (5, 3, 0.75), "operational": (1, 1, 0.25), "outcome": (1, 0, 0.0)}
    assert slices(result.customers) == {"external": (6, 3, 0.75), "internal": (1, 1, 0.25)}


def test_gaming_flags_are_counted_per_item_and_per_flag(company):
    result = mix()

    assert (result.flagged_items, result.flagged_verified) == (1, 0)
    assert result.flagged_share == pytest.approx(1 / 7)
    assert {row.key: row.items for row in result.flags} == {"score_solicitation": 1, "outcome_only": 1}
    assert {row.label for row in result.flags} == {"Score solicitation", "Outcome score only"}


def test_evidence_mix_follows_the_unit_and_cycle_filters(company):
    front = mix(unit_id=company.units["front"].pk)
    assert (front.items, front.verified) == (5, 3)  # ann x2, fay x2, bob

    # H2's subjects are fay, cat and gus: their items only.
    h2 = mix(cycle_id=company.h2.pk)
    assert (h2.items, h2.verified) == (4, 2)  # fay story + score, cat story, gus story


def test_evidence_mix_date_filter_is_on_the_impact_date(company):
    today = company.today
    assert mix(date_from=today - dt.timedelta(days=30), date_to=today).items == 7
    assert mix(date_from=today).items == 0


def test_review_health_queue_and_turnaround(company):
    health = review_health(filters=ReportFilters(), tree=org_tree_get())

    assert (health.waiting, health.overdue, health.overdue_days) == (2, 1, 5)
    queue = {row.name: (row.waiting, row.overdue) for row in health.queue}
    assert queue == {"Mia Manager": (1, 1), "Finn Head": (1, 0)}  # fay's score (8 days), gus's story (1 day)
    # Reviews: 2, 10, 30, 50, 200 hours.
    assert health.reviews == 5
    assert health.median_hours == 30
    assert health.p90_hours == 200
    assert health.late == 1
    reviewers = {row.name: (row.reviews, row.median_hours, row.p90_hours, row.late) for row in health.reviewers}
    assert reviewers == {"Rita One": (3, 10, 30, 0), "rev2": (2, 125, 200, 1)}


@override_settings(REPORTS_REVIEW_OVERDUE_DAYS=2)
def test_overdue_follows_the_setting(company):
    health = review_health(filters=ReportFilters(), tree=org_tree_get())

    assert health.overdue == 1  # fay's score waits 8 days, gus's story 1
    assert health.late == 2  # 50 h and 200 h are over 48 h


def test_turnaround_counts_reviews_done_within_the_dates(company):
    yesterday = timezone.localdate() - dt.timedelta(days=1)

    health = review_health(filters=ReportFilters(date_from=yesterday), tree=org_tree_get())

    assert health.reviews == 0
    assert health.waiting == 2  # the queue is now, whatever the dates


def test_boundary_lists_every_silent_unit_whatever_its_layer(company):
    report = boundary_report(filters=ReportFilters(), tree=org_tree_get(), today=company.today)

    assert (report.date_to - report.date_from).days == 364  # the last 365 days by default
    verified = {unit.name: (unit.verified, unit.headcount) for unit in report.units}
    assert verified == {"Acme": (0, 1), "Front desk": (3, 4), "Finance": (0, 3), "Legal": (0, 1), "Payroll": (1, 2)}
    assert [unit.name for unit in report.silent] == ["Acme", "Finance", "Legal"]
    layers = {layer.customer_layer: (layer.units, layer.taking_part, layer.silent, layer.silent_headcount)
              for layer in report.layers}  # fmt: skip
    assert layers == {0: (2, 1, 1, 1), 2: (2, 0, 2, 4), 3: (1, 1, 0, 0)}
    assert report.layers[1].share_taking_part == 0


def test_boundary_counts_only_verified_current_evidence_in_the_period(company):
    today = company.today
    EvidenceFactory(owner=company.people["lee"], status=EvidenceStatus.SUBMITTED)  # not verified: Legal stays silent
    EvidenceFactory(
        owner=company.people["eve"], status=EvidenceStatus.VERIFIED, impact_date=today - dt.timedelta(days=400)
    )  # verified but too old: Finance stays silent

    report = boundary_report(filters=ReportFilters(), tree=org_tree_get(), today=today)
    assert {unit.name for unit in report.silent} == {"Acme", "Finance", "Legal"}

    longer = boundary_report(filters=ReportFilters(date_from=today - dt.timedelta(days=500)), tree=org_tree_get(),
                             today=today)  # fmt: skip
    assert {unit.name for unit in longer.silent} == {"Acme", "Legal"}


def test_boundary_ignores_inactive_units_and_follows_the_subtree(company):
    OrgUnitFactory(name="Closed office", parent=company.units["acme"], customer_layer=1, active=False)

    report = boundary_report(
        filters=ReportFilters(unit_id=company.units["finance"].pk), tree=org_tree_get(), today=company.today
    )

    assert [unit.name for unit in report.units] == ["Finance", "Payroll"]


def test_evidence_reports_run_a_fixed_number_of_queries(company, django_assert_num_queries):
    tree = org_tree_get()
    filters = ReportFilters()
    counts = []
    for _ in range(2):
        with django_assert_num_queries(7) as captured:
            evidence_mix(filters=filters, tree=tree)
            review_health(filters=filters, tree=tree)
            boundary_report(filters=filters, tree=tree, today=company.today)
        counts.append(len(captured.captured_queries))
        grow(company, 20)
    assert counts == [7, 7]
