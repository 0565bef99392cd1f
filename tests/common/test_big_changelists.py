"""Admin lists of the big tables (cases, reminders, employees): filters with fixed choices, no DISTINCT over the table,
no whole-table count next to a filtered one, and the customer-layer filter keeping the right rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories.cases import CandidateCaseFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory
from tests.factories.reminders import ReminderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_admin(client):
    client.force_login(UserFactory(username="hr", is_staff=True, is_superuser=True))


def distincts_on(table: str, queries) -> list[str]:
    return [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper() and table in q["sql"]]


@pytest.mark.parametrize(
    ("changelist", "table", "make", "limit"),
    [
        ("admin:cases_case_changelist", "cases_case", lambda: CandidateCaseFactory.create_batch(25), 14),
        ("admin:reminders_reminder_changelist", "reminders_reminder", lambda: ReminderFactory.create_batch(25), 10),
        ("admin:org_employee_changelist", "org_employee", lambda: EmployeeFactory.create_batch(25), 12),
    ],
)
def test_a_big_tables_changelist_lists_layers_without_reading_the_table_for_its_filters(
    client, hr_admin, changelist, table, make, limit, django_assert_max_num_queries
):
    make()

    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(limit):
        page = client.get(reverse(changelist))

    assert page.status_code == 200
    assert distincts_on(table, queries.captured_queries) == []
    filtered = client.get(reverse(changelist), {"q": "no such thing anywhere"})
    assert filtered.status_code == 200 and filtered.context["cl"].full_result_count is None


def test_the_case_list_filters_by_the_customer_layer_of_the_policy_unit(client, hr_admin):
    front = CandidateCaseFactory(policy_unit=OrgUnitFactory(customer_layer=0))
    CandidateCaseFactory(policy_unit=OrgUnitFactory(customer_layer=2))

    page = client.get(reverse("admin:cases_case_changelist"), {"layer": "0"})

    assert list(page.context["cl"].result_list) == [front]
    assert "Layer 9" in page.content.decode()


def test_the_employee_list_filters_by_the_customer_layer_of_their_unit(client, hr_admin):
    back_office = EmployeeFactory(org_unit=OrgUnitFactory(customer_layer=3))
    EmployeeFactory(org_unit=OrgUnitFactory(customer_layer=0))

    page = client.get(reverse("admin:org_employee_changelist"), {"layer": "3"})

    assert list(page.context["cl"].result_list) == [back_office]
