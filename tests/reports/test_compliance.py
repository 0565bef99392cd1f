"""Compliance by cycle, unit (rolled up), layer: every figure checked against the fixture worked out by hand."""

import datetime as dt

import pytest

from apps.org.selectors import org_tree_get
from apps.reports.filters import ReportFilters
from apps.reports.selectors import compliance_report
from tests.reports.conftest import grow

pytestmark = pytest.mark.django_db


def report(**filters):
    return compliance_report(filters=ReportFilters(**filters), tree=org_tree_get())


def by_name(rows):
    return {row.name: row.figures for row in rows}


def test_totals_count_each_status_and_the_stored_compliance(company):
    total = report().total

    # A, B, C, D decided; E withdrawn (not a case any more); F, G, H open.
    assert total.cases == 7
    assert total.withdrawn == 1
    assert total.decided == 4
    assert (total.approved, total.approved_with_exception, total.rejected) == (2, 1, 1)
    assert total.compliant_at_decision == 2  # A and C
    assert total.compliance_rate == 0.5
    assert total.exception_rate == pytest.approx(1 / 3)  # B, of the three approvals
    assert (total.open, total.open_short, total.open_unevaluated) == (3, 1, 1)  # F short, H never evaluated
    # Verified items per case (withdrawn aside): ann 2, bob 0, cat 1, dan 0, fay 1, cat 1, gus 0 -> 0 0 0 1 1 1 2.
    assert total.median_verified_evidence == 1


def test_each_cycle_is_a_point_of_the_trend_oldest_first(company):
    cycles = report().cycles

    assert [row.name for row in cycles] == ["Promotions H1", "Promotions H2"]
    h1, h2 = cycles[0].figures, cycles[1].figures
    assert (h1.cases, h1.decided, h1.compliant_at_decision, h1.open) == (4, 4, 2, 0)
    assert h1.median_verified_evidence == 0.5  # 0 0 1 2: the mean of the two middle values
    assert (h2.cases, h2.decided, h2.open, h2.open_short, h2.open_unevaluated) == (3, 0, 3, 1, 1)
    assert h2.compliance_rate is None  # nothing decided yet: no rate, not 0%
    assert h2.median_verified_evidence == 1  # 0 1 1


def test_units_roll_up_to_their_ancestors_in_tree_order(company):
    rows = report().units

    assert [(row.name, row.depth) for row in rows] == [("Acme", 0), ("Finance", 1), ("Payroll", 2), ("Front desk", 1)]
    figures = by_name(rows)
    assert figures["Acme"].cases == 7
    # Finance: its own H (open, unevaluated) and withdrawn E, plus Payroll's C, D, G.
    assert (figures["Finance"].cases, figures["Finance"].withdrawn, figures["Finance"].decided) == (4, 1, 2)
    assert figures["Finance"].open_unevaluated == 1
    assert (figures["Payroll"].cases, figures["Payroll"].compliant_at_decision) == (3, 1)
    front = figures["Front desk"]
    assert (front.cases, front.approved, front.approved_with_exception, front.open_short) == (3, 1, 1, 1)
    assert front.exception_rate == 0.5
    own = {row.name: row.own.cases for row in rows}
    assert own == {"Acme": 0, "Finance": 1, "Payroll": 3, "Front desk": 3}
    assert "Legal" not in figures  # no cases below it


def test_layers_count_each_case_once_in_its_own_units_layer(company):
    layers = {row.customer_layer: row for row in report().layers}

    assert sorted(layers) == [0, 2, 3]
    assert (layers[0].figures.cases, layers[0].units) == (3, 1)  # Front desk
    assert (layers[2].figures.cases, layers[2].figures.withdrawn) == (1, 1)  # Finance: H (and E withdrawn)
    assert layers[3].figures.cases == 3  # Payroll: C, D, G
    assert sum(row.figures.cases for row in layers.values()) == 7


def test_the_cube_has_every_cycle_unit_and_cycle_layer(company):
    cube = report()

    h1_units = {row.name: row.figures for row in cube.cycle_units if row.cycle_id == company.h1.pk}
    assert h1_units["Acme"].cases == 4
    assert h1_units["Front desk"].compliant_at_decision == 1
    h2_layers = {row.customer_layer: row.figures for row in cube.cycle_layers if row.cycle_id == company.h2.pk}
    assert {layer: f.open for layer, f in h2_layers.items()} == {0: 1, 2: 1, 3: 1}


def test_cycle_filter(company):
    total = report(cycle_id=company.h2.pk).total

    assert (total.cases, total.open, total.decided) == (3, 3, 0)


def test_unit_filter_keeps_the_subtree_and_makes_it_the_root(company):
    rows = report(unit_id=company.units["finance"].pk).units

    assert [(row.name, row.depth) for row in rows] == [("Finance", 0), ("Payroll", 1)]
    assert rows[0].figures.cases == 4


def test_date_filter_is_on_the_day_cases_opened(company):
    today = company.today

    assert report(date_from=today, date_to=today).total.cases == 7
    assert report(date_from=today + dt.timedelta(days=1)).total.cases == 0
    assert report(date_to=today - dt.timedelta(days=1)).units == []


def test_ritual_filter(company):
    from apps.policies.models import RitualType

    assert report(ritual_type_id=RitualType.objects.get(code="hiring").pk).total.cases == 0
    assert report(ritual_type_id=company.h1.ritual_type_id).total.cases == 7


def test_a_fixed_number_of_queries_whatever_the_number_of_cases(company, django_assert_num_queries):
    tree = org_tree_get()
    with django_assert_num_queries(3):
        compliance_report(filters=ReportFilters(), tree=tree)
    grow(company, 30)
    with django_assert_num_queries(3):
        bigger = compliance_report(filters=ReportFilters(), tree=tree)
    assert bigger.total.cases == 37
