"""Bulk writes on audited models are audited row by row, or refused."""

from __future__ import annotations

import pytest
from django.core import checks
from django.db.models import F

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent
from apps.audit.personal import reveal_changes
from apps.audit.querysets import AuditedQuerySet, UnauditedBulkWrite
from apps.audit.registry import tracked_models
from apps.org.constants import JobFunction
from apps.org.models import Employee, JourneyStage, OrgUnit, Touchpoint
from tests.audit.helpers import events_of
from tests.factories.org import EmployeeFactory, OrgUnitFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

PRODUCT_MODELS = [m for m in tracked_models() if m._meta.app_label != "auth"]


def test_update_is_refused_with_a_pointer_to_the_audited_alternative():
    OrgUnitFactory()

    with pytest.raises(UnauditedBulkWrite, match=r"audited_update\(active=...\)"):
        OrgUnit.objects.filter(active=True).update(active=False)

    assert OrgUnit.objects.filter(active=True).count() == 1


def test_bulk_update_is_refused():
    unit = OrgUnitFactory()
    unit.name = "Renamed"

    with pytest.raises(UnauditedBulkWrite, match="audited_update"):
        OrgUnit.objects.bulk_update([unit], ["name"])


def test_audited_update_writes_one_event_per_changed_row_with_its_old_and_new_values():
    units = [OrgUnitFactory(customer_layer=layer) for layer in (0, 1, 2)]
    untouched = OrgUnitFactory(customer_layer=5)

    count = OrgUnit.objects.filter(customer_layer__lt=3).audited_update(customer_layer=F("customer_layer") + 1)

    assert count == 3
    for unit, layer in zip(units, (0, 1, 2), strict=True):
        (update,) = events_of(unit, AuditAction.UPDATE)
        assert update.changes == {"customer_layer": [layer, layer + 1]}
        assert update.context == {"bulk": "audited_update"}
    assert events_of(untouched, AuditAction.UPDATE) == []
    assert sorted(OrgUnit.objects.values_list("customer_layer", flat=True)) == [1, 2, 3, 5]


def test_audited_update_skips_rows_it_did_not_change():
    OrgUnitFactory(active=False)
    before = AuditEvent.objects.count()

    assert OrgUnit.objects.audited_update(active=False) == 1

    assert AuditEvent.objects.count() == before


def test_bulk_create_writes_one_create_event_per_object():
    unit = OrgUnitFactory()
    people = [
        Employee(
            employee_number=f"B{n}",
            full_name=f"Bulk {n}",
            email=f"bulk{n}@example.com",
            org_unit=unit,
            job_function=JobFunction.SALES,
        )
        for n in range(5)
    ]

    created = Employee.objects.bulk_create(people)

    for person in created:
        (event,) = events_of(person)
        assert event.action == AuditAction.CREATE
        assert reveal_changes(event.changes)["full_name"] == [None, person.full_name]
        assert event.changes["org_unit"] == [None, unit.pk]
        assert event.context == {"bulk": "bulk_create"}
    # A later save of a bulk-created object compares with what was inserted.
    created[0].full_name = "Renamed"
    created[0].save()
    assert reveal_changes(events_of(created[0], AuditAction.UPDATE)[0].changes)["full_name"] == ["Bulk 0", "Renamed"]


def test_a_large_bulk_create_writes_its_events_in_bounded_statements(monkeypatch):
    """One INSERT per WRITE_BATCH events, not one statement for the whole batch (which exhausted PostgreSQL's memory
    on the 100,000-employee demo)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.audit import capture

    monkeypatch.setattr(capture, "WRITE_BATCH", 4)
    stages = [JourneyStage(name=f"Stage {n}", code=f"bulk-stage-{n}") for n in range(10)]

    with CaptureQueriesContext(connection) as ctx:
        JourneyStage.objects.bulk_create(stages)

    inserts = [q for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "audit_event"')]
    assert len(inserts) == 3  # 4 + 4 + 2
    assert AuditEvent.objects.filter(object_type="org.journeystage", action=AuditAction.CREATE).count() == 10


def test_bulk_create_that_may_skip_or_overwrite_rows_is_refused():
    with pytest.raises(UnauditedBulkWrite, match="get_or_create"):
        OrgUnit.objects.bulk_create([OrgUnit(name="X", code="x")], ignore_conflicts=True)
    with pytest.raises(UnauditedBulkWrite):
        OrgUnit.objects.bulk_create(
            [OrgUnit(name="X", code="x")], update_conflicts=True, unique_fields=["code"], update_fields=["name"]
        )


def test_a_reverse_relation_bulk_remove_is_refused_rather_than_unaudited():
    unit = OrgUnitFactory()
    touchpoint = TouchpointFactory(owner_unit=unit)

    with pytest.raises(UnauditedBulkWrite):
        unit.touchpoints.remove(touchpoint)

    unit.touchpoints.remove(touchpoint, bulk=False)  # saves each row, so it is audited
    (update,) = events_of(touchpoint, AuditAction.UPDATE)
    assert update.changes == {"owner_unit": [unit.pk, None]}
    assert Touchpoint.objects.get(pk=touchpoint.pk).owner_unit_id is None


def test_querysets_keep_their_own_filters_when_they_subclass_audited_queryset():
    EmployeeFactory(active=False)
    EmployeeFactory()

    assert Employee.objects.active().count() == 1
    assert isinstance(Employee.objects.active(), AuditedQuerySet)


@pytest.mark.parametrize("model", PRODUCT_MODELS, ids=lambda m: m._meta.label_lower)
def test_every_product_model_uses_an_audited_queryset(model):
    assert isinstance(model._default_manager.all(), AuditedQuerySet), (
        f"{model._meta.label}: objects = <QuerySet subclassing apps.audit.querysets.AuditedQuerySet>.as_manager()"
    )


def test_the_system_check_names_a_product_model_without_an_audited_queryset(monkeypatch):
    from apps.audit import checks as audit_checks
    from apps.org.models import OrgUnitQuerySet

    assert audit_checks.check_audited_querysets() == []
    monkeypatch.setattr(OrgUnit._default_manager, "_queryset_class", OrgUnitQuerySet.__mro__[-3])  # plain QuerySet

    messages = audit_checks.check_audited_querysets()

    assert [m.id for m in messages] == ["audit.W001"]
    assert messages[0].obj is OrgUnit
    assert isinstance(messages[0], checks.Warning)
