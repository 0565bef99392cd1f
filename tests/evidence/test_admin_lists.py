"""The evidence admin at scale: no whole-table count, filters without DISTINCT, a search the indexes serve."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.common.pagination import EstimatedCountPaginator
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:evidence_evidence_changelist"


@pytest.fixture
def hr_admin(client):
    user = UserFactory(username="hr", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def counts_of(queries) -> list[str]:
    return [query["sql"] for query in queries if "COUNT(" in query["sql"].upper()]


def distincts_on_evidence(queries) -> list[str]:
    return [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper() and "evidence_evidence" in q["sql"]]


def test_the_changelist_costs_a_fixed_number_of_queries_and_no_distinct(
    client, hr_admin, django_assert_max_num_queries
):
    EvidenceFactory.create_batch(30)

    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(10):
        page = client.get(reverse(CHANGELIST))

    assert page.status_code == 200
    assert distincts_on_evidence(queries.captured_queries) == []
    assert "Layer 0" in page.content.decode()  # the customer-layer filter offers its fixed choices


def test_the_customer_layer_filter_keeps_the_items_of_owners_in_that_layer(client, hr_admin):
    front = EvidenceFactory(owner=EmployeeFactory(org_unit=OrgUnitFactory(customer_layer=0)), title="Front desk story")
    EvidenceFactory(owner=EmployeeFactory(org_unit=OrgUnitFactory(customer_layer=2)), title="Payroll story")

    page = client.get(reverse(CHANGELIST), {"layer": "0"})

    assert list(page.context["cl"].result_list) == [front]


def test_search_finds_items_by_their_texts_and_by_their_owner(client, hr_admin):
    owner = EmployeeFactory(full_name="Amaranta Úrsula Buendía", employee_number="E-4711")
    by_owner = EvidenceFactory(owner=owner, title="Late check-out for a family")
    by_title = EvidenceFactory(title="Wheelchair ramp at the pool")
    by_reference = EvidenceFactory(title="Breakfast", source_reference="ZD-99881")
    EvidenceFactory(title="Unrelated")

    def found(term):
        return set(client.get(reverse(CHANGELIST), {"q": term}).context["cl"].result_list)

    assert found("amaranta") == {by_owner}
    assert found("e-4711") == {by_owner}
    assert found("ramp at") == {by_title}
    assert found("zd-9988") == {by_reference}


def test_a_filtered_list_counts_exactly(client, hr_admin):
    EvidenceFactory.create_batch(3, status=EvidenceStatus.SUBMITTED)
    EvidenceFactory.create_batch(2)

    page = client.get(reverse(CHANGELIST), {"status__exact": "submitted"})

    assert page.context["cl"].result_count == 3


def test_the_paginator_counts_exactly_off_postgresql_even_when_asked_to_estimate():
    EvidenceFactory.create_batch(3)
    paginator = EstimatedCountPaginator(Evidence.objects.all(), 2, estimate=True)
    paginator.exact_below = 0
    assert (paginator.count, paginator.num_pages) == (3, 2)


@pytest.mark.postgres
def test_on_postgresql_the_unfiltered_changelist_shows_the_estimate_without_counting_the_table(
    client, hr_admin, monkeypatch
):
    EvidenceFactory.create_batch(25)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE evidence_evidence")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 10)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse(CHANGELIST))
    filtered = client.get(reverse(CHANGELIST), {"status__exact": "draft"})

    assert counts_of(queries.captured_queries) == []
    assert page.context["cl"].result_count == 25  # ANALYZE saw every row of this small table
    assert filtered.context["cl"].result_count == 25


def plan_of(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_on_postgresql_the_admin_search_of_a_title_uses_its_trigram_index():
    EvidenceFactory.create_batch(5)
    sql, params = Evidence.objects.filter(title__icontains="wheelchair").order_by().values("pk").query.sql_with_params()
    assert "evidence_title_trgm" in plan_of(sql, params)
    sql, params = (
        Evidence.objects.filter(customer_quote__icontains="room").order_by().values("pk").query.sql_with_params()
    )
    assert "evidence_quote_trgm" in plan_of(sql, params)
