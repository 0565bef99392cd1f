"""A row the service has just read under lock is not read again for its update's old values, unless something could
have changed it since: the event is the same either way."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.audit.capture import remember_locked_read
from apps.audit.constants import AuditAction
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.evidence.services import evidence_submit
from tests.audit.helpers import events_of
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db


def _locked(pk: int) -> Evidence:
    item = Evidence.objects.select_for_update().get(pk=pk)
    remember_locked_read(item)
    return item


def _old_value_reads(queries) -> list[str]:  # type: ignore[no-untyped-def]
    # The capture's read of old values: the saved columns only, by name (the services' reads take every column).
    return [q["sql"] for q in queries if re.match(r'SELECT "evidence_evidence"\."\w+" AS "\w+"', q["sql"])]


def test_an_update_after_a_locked_read_records_the_read_values_without_reading_again():
    item = EvidenceFactory(title="Before")
    with transaction.atomic():
        locked = _locked(item.pk)
        locked.title = "After"
        with CaptureQueriesContext(connection) as queries:
            locked.save(update_fields=["title"])
    assert _old_value_reads(queries.captured_queries) == []
    (event,) = events_of(item, AuditAction.UPDATE)
    assert event.changes == {"title": ["Before", "After"]}


def test_a_submission_reads_the_item_once():
    owner = EmployeeFactory(user=UserFactory(username="owner"))
    item = EvidenceFactory(owner=owner, status=EvidenceStatus.DRAFT)
    with CaptureQueriesContext(connection) as queries:
        evidence_submit(evidence=item, by=owner.user)
    item_reads = [q for q in queries.captured_queries if re.match(r'SELECT .* FROM "evidence_evidence"', q["sql"])]
    assert len(item_reads) == 1  # the service's locking read; the capture takes the old values from it
    assert _old_value_reads(queries.captured_queries) == []
    (event,) = events_of(item, AuditAction.UPDATE)
    assert event.changes["status"] == [EvidenceStatus.DRAFT, EvidenceStatus.SUBMITTED]


def test_another_instance_saved_in_between_makes_the_capture_read_the_row_again():
    item = EvidenceFactory(title="Before")
    with transaction.atomic():
        locked = _locked(item.pk)
        alias = Evidence.objects.get(pk=item.pk)
        alias.title = "Meanwhile"
        alias.save(update_fields=["title"])
        locked.title = "After"
        locked.save(update_fields=["title"])
    changes = [event.changes["title"] for event in events_of(item, AuditAction.UPDATE)]
    assert changes == [["Before", "Meanwhile"], ["Meanwhile", "After"]]  # not ["Before", "After"]


def test_a_rolled_back_savepoint_of_the_read_makes_the_capture_read_the_row_again():
    item = EvidenceFactory(title="Before")
    with transaction.atomic():
        try:
            with transaction.atomic():
                locked = _locked(item.pk)
                raise RuntimeError("the savepoint rolls back, and the lock with it")
        except RuntimeError:
            pass
        # The lock went with the savepoint: another transaction could have changed the row since.
        locked.title = "After"
        with CaptureQueriesContext(connection) as queries:
            locked.save(update_fields=["title"])
    assert len(_old_value_reads(queries.captured_queries)) == 1
    assert events_of(item, AuditAction.UPDATE)[-1].changes == {"title": ["Before", "After"]}


def test_a_json_value_changed_in_place_after_the_read_is_recorded_with_its_value_as_read():
    item = EvidenceFactory(gaming_flags=[{"code": "survey_score", "reason": "A score."}])
    with transaction.atomic():
        locked = _locked(item.pk)
        locked.gaming_flags.append({"code": "outcome_only", "reason": "Only an outcome."})
        locked.save(update_fields=["gaming_flags"])
    (event,) = events_of(item, AuditAction.UPDATE)
    old, new = event.changes["gaming_flags"]
    assert [flag["code"] for flag in old] == ["survey_score"]
    assert [flag["code"] for flag in new] == ["survey_score", "outcome_only"]
