"""Every create, update and delete of every audited model appears once in the trail, with its field changes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from apps.audit.capture import audit_snapshot
from apps.audit.constants import MASK_CHANGED, AuditAction
from apps.audit.models import AuditEvent
from apps.audit.personal import reveal_changes
from apps.audit.registry import tracked_models
from apps.audit.serialization import json_safe
from apps.org.models import JourneyStage, OrgUnit
from tests.audit.helpers import an_edit, events_of, factory_for
from tests.factories.audit import GroupFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db

TRACKED = tracked_models()


def _label(model: type) -> str:
    return model._meta.label_lower


def test_the_registry_covers_the_org_models_users_and_groups_but_not_the_trail_itself():
    labels = {_label(model) for model in TRACKED}

    assert {"org.orgunit", "org.employee", "org.journeystage", "org.touchpoint", "auth.user", "auth.group"} <= labels
    assert "audit.auditevent" not in labels
    assert "sessions.session" not in labels


@pytest.mark.parametrize("model", TRACKED, ids=_label)
def test_every_tracked_model_has_a_factory_so_its_capture_is_tested(model):
    assert factory_for(model) is not None, f"Add a factory for {model._meta.label} in tests/factories/"


@pytest.mark.parametrize("model", TRACKED, ids=_label)
def test_create_update_delete_of_each_tracked_model_each_appear_once_with_field_changes(model):
    model_factory = factory_for(model)
    if model_factory is None:
        pytest.skip("no factory (the test above fails for it)")

    obj = model_factory()
    created = events_of(obj)
    assert [e.action for e in created] == [AuditAction.CREATE]
    for field in model._meta.concrete_fields:
        expected = MASK_CHANGED if field.name == "password" else json_safe(getattr(obj, field.attname))
        assert reveal_changes(created[0].changes)[field.name] == [None, expected]

    obj = model.objects.get(pk=obj.pk)  # as loaded from the database, like a real edit
    field, new_value = an_edit(obj)
    old_value = json_safe(getattr(obj, field.attname))
    setattr(obj, field.attname, new_value)
    obj.save()
    updates = events_of(obj, AuditAction.UPDATE)
    assert len(updates) == 1
    assert reveal_changes(updates[0].changes)[field.name] == [old_value, json_safe(new_value)]
    auto_now = {f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)}
    assert set(updates[0].changes) - auto_now == {field.name}

    pk = obj.pk
    obj.delete()
    deleted = events_of((_label(model), pk), AuditAction.DELETE)
    assert len(deleted) == 1
    assert reveal_changes(deleted[0].changes)[field.name] == [json_safe(new_value), None]
    assert deleted[0].changes[model._meta.pk.name] == [pk, None]


def test_a_save_that_changes_nothing_writes_no_event():
    unit = OrgUnitFactory()
    before = AuditEvent.objects.count()

    OrgUnit.objects.get(pk=unit.pk).save()

    assert AuditEvent.objects.count() == before


def test_update_records_only_the_saved_fields_with_update_fields():
    employee = EmployeeFactory(full_name="Ann Lee")
    employee.full_name = "Ann Smith"
    employee.timezone = "Asia/Tokyo"  # changed in memory but not saved

    employee.save(update_fields=["full_name"])

    (update,) = events_of(employee, AuditAction.UPDATE)
    assert reveal_changes(update.changes) == {"full_name": ["Ann Lee", "Ann Smith"]}
    # The unsaved change is still pending and shows up when it is saved.
    employee.save(update_fields=["timezone"])
    latest = events_of(employee, AuditAction.UPDATE)[-1]
    assert reveal_changes(latest.changes) == {"timezone": ["Europe/Paris", "Asia/Tokyo"]}


def test_a_stale_instance_that_writes_back_an_old_value_is_recorded_as_that_change():
    # "Last write wins": the second writer reverts the first one's change, and the trail says so.
    unit = OrgUnitFactory(name="Billing")
    first, second = OrgUnit.objects.get(pk=unit.pk), OrgUnit.objects.get(pk=unit.pk)
    first.name = "Billing & Invoicing"
    first.save()

    second.customer_layer = 2
    second.save()

    last = events_of(second, AuditAction.UPDATE)[-1]
    assert last.changes["name"] == ["Billing & Invoicing", "Billing"]
    assert last.changes["customer_layer"] == [0, 2]


def test_after_refresh_from_db_a_save_reports_only_its_own_change():
    unit = OrgUnitFactory(name="Billing", customer_layer=1)
    elsewhere = OrgUnit.objects.get(pk=unit.pk)
    elsewhere.name = "Billing & Invoicing"
    elsewhere.save()

    unit.refresh_from_db()
    unit.customer_layer = 2
    unit.save()

    last = events_of(unit, AuditAction.UPDATE)[-1]
    assert last.changes == {"customer_layer": [1, 2], "updated_at": last.changes["updated_at"]}


def test_a_partial_refresh_leaves_the_other_fields_to_be_written_back_and_recorded():
    unit = OrgUnitFactory(name="Billing", description="old")
    OrgUnit.objects.filter(pk=unit.pk).audited_update(name="Finance ops", description="new")

    unit.refresh_from_db(fields=["name"])
    unit.save()

    last = events_of(unit, AuditAction.UPDATE)[-1]
    assert last.changes["description"] == ["new", "old"]  # the unrefreshed field really is written back
    assert "name" not in last.changes


def test_foreign_keys_are_recorded_as_ids_and_dates_as_iso_text():
    old_unit, new_unit = OrgUnitFactory(), OrgUnitFactory()
    employee = EmployeeFactory(org_unit=old_unit)

    employee.org_unit = new_unit
    employee.save()

    (update,) = events_of(employee, AuditAction.UPDATE)
    assert update.changes["org_unit"] == [old_unit.pk, new_unit.pk]
    created_at = events_of(employee, AuditAction.CREATE)[0].changes["created_at"][1]
    assert created_at == employee.created_at.isoformat()


def test_a_deferred_field_is_compared_with_the_stored_value():
    unit = OrgUnitFactory(description="before")
    partial = OrgUnit.objects.only("id", "name").get(pk=unit.pk)

    partial.description = "after"
    partial.save(update_fields=["description"])

    (update,) = events_of(unit, AuditAction.UPDATE)
    assert update.changes == {"description": ["before", "after"]}


def test_deleting_a_row_records_the_set_null_it_causes_on_rows_pointing_to_it():
    boss = EmployeeFactory()
    report = EmployeeFactory(manager=boss, org_unit=boss.org_unit)

    boss_id = boss.pk
    boss.delete()

    (update,) = events_of(report, AuditAction.UPDATE)
    assert update.changes == {"manager": [boss_id, None]}
    assert "deleted" in update.context["cause"]
    report.refresh_from_db()
    assert report.manager_id is None


def test_password_hashes_never_reach_the_trail():
    user = UserFactory()
    user.set_password("another-secret-phrase")
    user.save()

    events = events_of(user)
    assert events[0].changes["password"] == [None, MASK_CHANGED]
    assert events[1].changes["password"] == ["***", MASK_CHANGED]
    for event in events:
        assert user.password not in str(event.changes)


def test_group_membership_changes_are_recorded_on_the_user_both_ways():
    user, reviewers, leaders = UserFactory(), GroupFactory(name="Reviewers"), GroupFactory(name="Leaders")

    user.groups.add(reviewers)
    leaders.user_set.add(user)
    user.groups.remove(reviewers)
    user.groups.clear()

    changes = [e.changes["groups"] for e in events_of(user, AuditAction.UPDATE)]
    assert changes == [
        [[], [reviewers.pk]],
        [[reviewers.pk], sorted([reviewers.pk, leaders.pk])],
        [sorted([reviewers.pk, leaders.pk]), [leaders.pk]],
        [[leaders.pk], []],
    ]


def test_a_group_is_audited():
    group = GroupFactory(name="Auditors")
    group.name = "Internal auditors"
    group.save()

    assert [e.action for e in events_of(group)] == [AuditAction.CREATE, AuditAction.UPDATE]
    assert isinstance(group, Group)


def test_a_rolled_back_change_leaves_no_event_and_the_chain_goes_on():
    from apps.audit.selectors import audit_chain_verify

    unit = OrgUnitFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        unit.name = "Renamed"
        unit.save()
        JourneyStage.objects.create(name="Doomed", code="doomed")
        raise RuntimeError("boom")
    OrgUnitFactory()

    assert events_of(unit, AuditAction.UPDATE) == []
    assert not AuditEvent.objects.filter(object_repr="Doomed").exists()
    assert audit_chain_verify().intact


def test_a_rolled_back_savepoint_leaves_no_gap_in_the_chain():
    from apps.audit.sealer import audit_seal_pending
    from apps.audit.selectors import audit_chain_verify

    with transaction.atomic():
        OrgUnitFactory()
        with pytest.raises(RuntimeError), transaction.atomic():
            OrgUnitFactory()
            OrgUnitFactory()
            raise RuntimeError("boom")
        OrgUnitFactory()
        with transaction.atomic():
            OrgUnitFactory()
    audit_seal_pending()

    report = audit_chain_verify()
    assert report.intact
    assert report.count == AuditEvent.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_saves_outside_a_transaction_commit_the_change_and_its_event_together(monkeypatch):
    from apps.audit import capture

    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    unit = OrgUnitFactory(name="Before")
    monkeypatch.setattr(capture, "write_events", broken)
    unit.name = "After"
    with pytest.raises(RuntimeError):
        unit.save()

    assert OrgUnit.objects.get(pk=unit.pk).name == "Before"


@pytest.mark.django_db
def test_a_service_that_locked_the_row_passes_the_values_it_read_and_the_update_reads_it_no_more(
    django_assert_num_queries,
):
    unit = OrgUnitFactory(name="Before")
    with transaction.atomic():
        locked = OrgUnit.objects.select_for_update().get(pk=unit.pk)
        before = audit_snapshot(locked)
        locked.name = "After"
        with django_assert_num_queries(2):  # the UPDATE and its event: no read of the old values
            locked.save(update_fields=["name"], audit_before=before)
        locked.description = "Second edit, nothing passed"
        with django_assert_num_queries(3):  # the old values are read under lock again
            locked.save(update_fields=["description"])

    first, second = events_of(unit, AuditAction.UPDATE)
    assert first.changes == {"name": ["Before", "After"]}
    assert second.changes == {"description": ["", "Second edit, nothing passed"]}


@pytest.mark.django_db
def test_values_passed_to_a_save_that_failed_are_not_used_by_the_next_save():
    unit = OrgUnitFactory(name="Before")
    stale = {**audit_snapshot(unit), "name": "Not what is stored"}
    unit.parent = OrgUnit(name="Unsaved", code="unsaved")
    with pytest.raises(ValueError, match="unsaved related object"), transaction.atomic():
        unit.save(audit_before=stale)  # refused before any signal

    unit.parent = None
    unit.name = "After"
    unit.save()

    (update,) = events_of(unit, AuditAction.UPDATE)
    assert update.changes["name"] == ["Before", "After"]
