"""A prepared save writes exactly the row the ORM's save writes, and leaves to the ORM what it does not take."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.common import prepared_writes
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from tests.factories.evidence import EvidenceFactory

pytestmark = pytest.mark.django_db


def _row(pk):
    return Evidence.objects.filter(pk=pk).values().get()


def _fresh(item):
    fields = [field for field in Evidence._meta.concrete_fields if not field.primary_key]
    return Evidence(**{field.attname: getattr(item, field.attname) for field in fields})


def test_a_created_item_has_the_row_and_primary_key_an_orm_insert_gives_it():
    template = EvidenceFactory(baseline=Decimal("38.5"), result=Decimal("6.25"), gaming_flags=[{"code": "x"}])
    prepared = _fresh(template)
    prepared.save()
    orm = _fresh(template)
    Evidence.objects.bulk_create([orm])  # Django's own insert

    assert isinstance(prepared.pk, int)
    assert prepared._state.adding is False
    mine, theirs = _row(prepared.pk), _row(orm.pk)
    different = {"id", "created_at", "updated_at"}
    assert {k: v for k, v in mine.items() if k not in different} == {
        k: v for k, v in theirs.items() if k not in different
    }
    assert mine["baseline"] == Decimal("38.5") and mine["gaming_flags"] == [{"code": "x"}]
    assert mine["created_at"] == prepared.created_at  # auto_now_add set on the instance and written


def test_an_update_writes_only_the_given_fields_and_says_whether_the_row_was_there():
    item = EvidenceFactory(title="Before", review_comment="")
    item.title = "After"
    item.review_comment = "changed in memory only"
    item.submitted_at = None
    item.save(update_fields=["title", "submitted_at"])
    row = _row(item.pk)
    assert row["title"] == "After"
    assert row["review_comment"] == ""  # not among update_fields
    assert row["submitted_at"] is None

    Evidence.objects.filter(pk=item.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        item.save(update_fields=["title"])


def test_a_full_save_of_a_loaded_item_updates_every_column():
    item = EvidenceFactory(status=EvidenceStatus.DRAFT)
    item.status = EvidenceStatus.SUBMITTED
    item.submitted_at = timezone.now()
    item.impact_date = dt.date(2026, 1, 31)
    item.save()
    row = _row(item.pk)
    assert (row["status"], row["submitted_at"], row["impact_date"]) == (
        EvidenceStatus.SUBMITTED,
        item.submitted_at,
        dt.date(2026, 1, 31),
    )


def test_a_save_takes_one_statement_as_the_orms_does():
    item = EvidenceFactory()
    with CaptureQueriesContext(connection) as first:
        item.title = "One"
        item.save(update_fields=["title"])
    with CaptureQueriesContext(connection) as second:
        item.title = "Two"
        item.save(update_fields=["title"])
    writes = [q["sql"] for q in first.captured_queries + second.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(writes) == 2


def test_an_expression_value_goes_to_the_orm_and_still_works():
    item = EvidenceFactory(version=1)
    item.version = F("version") + 1
    item.save(update_fields=["version"])
    item.refresh_from_db()
    assert item.version == 2


def test_database_errors_are_djangos_and_leave_nothing_behind():
    item = EvidenceFactory()
    clash = _fresh(item)
    clash.previous_id = item.pk
    clash.save()
    again = _fresh(item)
    again.previous_id = item.pk  # previous is unique: one correction per item
    before = Evidence.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        again.save()
    assert Evidence.objects.count() == before


def test_statements_are_built_once_per_field_list():
    prepared_writes._updates.clear()
    item = EvidenceFactory()
    for title in ("a", "b", "c"):
        item.title = title
        item.save(update_fields=["title"])
    assert [key[2] for key in prepared_writes._updates if key[0] is Evidence] == [("title",)]
    assert Evidence.objects.get(pk=item.pk).title == "c"
