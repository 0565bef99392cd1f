"""Engine facts are loaded for many employees at once, only from current verified evidence."""

import datetime as dt

import pytest

from apps.evidence.constants import EvidenceStatus
from apps.evidence.selectors import evidence_facts_by_owner
from tests.factories.evidence import EvidenceFactory, OperationalMetricEvidenceFactory
from tests.factories.org import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_facts_come_from_current_verified_items_only_in_one_query(django_assert_num_queries):
    people = [EmployeeFactory() for _ in range(3)]
    counted = [EvidenceFactory(owner=person, status=EvidenceStatus.VERIFIED) for person in people]
    EvidenceFactory(owner=people[0], status=EvidenceStatus.SUBMITTED)
    EvidenceFactory(owner=people[0], status=EvidenceStatus.VERIFIED, is_current=False)

    with django_assert_num_queries(1):
        facts = evidence_facts_by_owner(owner_ids=[p.pk for p in people])

    assert {fact.id for person in people for fact in facts[person.pk]} == {item.pk for item in counted}


def test_metric_fields_reach_the_engine_as_numbers():
    item = OperationalMetricEvidenceFactory(status=EvidenceStatus.VERIFIED)

    [fact] = evidence_facts_by_owner(owner_ids=[item.owner_id])[item.owner_id]

    assert (fact.metric_kind, fact.baseline, fact.result, fact.direction) == ("operational", 61.0, 74.0, "increase")
    assert fact.category_code == "operational_kpi"
    assert fact.is_outcome is False


def test_items_dated_after_as_of_are_left_out():
    item = EvidenceFactory(status=EvidenceStatus.VERIFIED, impact_date=dt.date(2026, 6, 1))

    facts = evidence_facts_by_owner(owner_ids=[item.owner_id], as_of=dt.date(2026, 5, 31))

    assert facts == {}
