"""A person's personal values are stored in the trail encrypted with their own key, so erasing the person makes
them unreadable for good while every hash, and so the chain, still holds."""

from __future__ import annotations

import json
import time

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent, PersonKey
from apps.audit.personal import (
    ERASED,
    OUTSIDE_APPLICATION,
    PREFIX,
    PersonalAuditAction,
    erase_person_keys,
    is_encrypted,
    person_erase,
    person_key_for,
    reveal,
    reveal_changes,
)
from apps.audit.sealer import audit_seal_pending, unsealed_events
from apps.audit.selectors import audit_chain_verify
from apps.common.context import Actor, acting_as, system_actor
from apps.org.models import Employee
from tests.audit.helpers import events_of, tamper
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def _seal_all() -> None:
    """Seal until nothing waits (on PostgreSQL another session's open transaction may hold sealing back a moment)."""
    deadline = time.monotonic() + 60
    audit_seal_pending()
    while unsealed_events().exists():
        assert time.monotonic() < deadline, "the sealer never got past an open transaction"
        time.sleep(0.2)
        audit_seal_pending()


def _stored(event: AuditEvent) -> str:
    """The event row as the database holds it, as text."""
    row = AuditEvent.objects.filter(pk=event.pk).values("object_repr", "changes", "actor_name").get()
    return json.dumps(row, ensure_ascii=False)


@pytest.fixture
def admin_user():
    return UserFactory(username="dpo", is_staff=True, is_superuser=True)


@pytest.fixture
def employee():
    person = EmployeeFactory(full_name="Ada Lovelace", email="ada@example.com")
    person.full_name = "Ada King"
    person.email = "countess@example.com"
    person.save()
    return person


def test_an_employees_create_and_update_events_hold_only_ciphertext_of_name_and_email(employee):
    created, updated = events_of(employee)[:2]

    for event in (created, updated):
        stored = _stored(event)
        for clear in ("Ada Lovelace", "Ada King", "ada@example.com", "countess@example.com"):
            assert clear not in stored
        assert event.object_repr.startswith(PREFIX)
    assert all(is_encrypted(value) for value in created.changes["full_name"][1:])
    assert created.changes["full_name"][0] is None  # nothing before a create: nothing to hide
    assert created.changes["org_unit"][1] == employee.org_unit_id  # a link, not a personal value: clear


def test_reveal_gives_the_values_back(employee):
    created, updated = events_of(employee)[:2]

    assert reveal(created.object_repr) == f"Ada Lovelace ({employee.employee_number})"
    assert reveal_changes(updated.changes)["full_name"] == ["Ada Lovelace", "Ada King"]
    assert reveal_changes(updated.changes)["email"] == ["ada@example.com", "countess@example.com"]
    assert reveal("plain text") == "plain text" and reveal(3) == 3


def test_each_person_has_one_key_of_their_own(employee):
    other = EmployeeFactory()

    assert PersonKey.objects.filter(person_type="org.employee").count() == 2
    assert person_key_for("org.employee", employee.pk) == person_key_for("org.employee", employee.pk)
    assert len(bytes(person_key_for("org.employee", other.pk).key)) == 32
    assert not AuditEvent.objects.filter(object_type="audit.personkey").exists()  # keys never reach the trail


# Committed transactions: on PostgreSQL the sealer seals only what committed.
@pytest.mark.django_db(transaction=True)
def test_after_erasure_the_chain_still_verifies_and_the_values_read_erased(employee, admin_user):
    _seal_all()
    assert audit_chain_verify().intact

    person_erase(label="org.employee", pk=employee.pk, by=admin_user)
    _seal_all()

    report = audit_chain_verify()
    assert report.intact and report.unsealed == 0
    created, updated = events_of(employee)[:2]
    assert reveal(created.object_repr) == ERASED
    assert reveal_changes(updated.changes)["full_name"] == [ERASED, ERASED]
    key = PersonKey.objects.get(person_type="org.employee", person_id=str(employee.pk))
    assert bytes(key.key) == b"" and key.erased_at is not None


def test_the_erasure_is_recorded_without_any_value(employee, admin_user):
    person_erase(label="org.employee", pk=employee.pk, by=admin_user)
    person_erase(label="org.employee", pk=employee.pk, by=admin_user)  # twice: recorded once

    (event,) = AuditEvent.objects.filter(action=PersonalAuditAction.PERSON_KEY_ERASED)
    assert (event.object_type, event.object_id) == ("org.employee", str(employee.pk))
    assert "Ada" not in _stored(event) and "Ada" not in json.dumps(event.context)


def test_only_an_administrator_or_hr_with_the_erase_permission_can_erase(employee):
    with pytest.raises(PermissionDenied):
        person_erase(label="org.employee", pk=employee.pk, by=UserFactory())
    assert reveal(events_of(employee)[0].object_repr) != ERASED

    hr = UserFactory(username="hr-privacy")
    hr.user_permissions.add(Permission.objects.get(codename="erase_person", content_type__app_label="privacy"))
    person_erase(label="org.employee", pk=employee.pk, by=User.objects.get(pk=hr.pk))  # permissions read afresh
    assert reveal(events_of(employee)[0].object_repr) == ERASED


def test_a_system_process_may_erase_without_a_user_but_an_anonymous_request_may_not(employee):
    with acting_as(Actor(user_id=None, name="anonymous")), pytest.raises(PermissionDenied):
        person_erase(label="org.employee", pk=employee.pk, by=None)

    with acting_as(system_actor("privacy.retention")):
        person_erase(label="org.employee", pk=employee.pk, by=None)

    assert reveal(events_of(employee)[0].object_repr) == ERASED


def test_erase_person_keys_erases_every_key_of_a_person_at_once(employee, admin_user):
    user = UserFactory(first_name="Ada", last_name="King")
    employee.user = user
    employee.save()

    erased = erase_person_keys([("org.employee", employee.pk), ("auth.user", str(user.pk))], by=admin_user)

    assert len(erased) == 2 and all(key.erased_at is not None for key in erased)
    assert reveal(events_of(employee)[0].object_repr) == ERASED
    assert reveal_changes(events_of(user, AuditAction.CREATE)[0].changes)["last_name"] == [None, ERASED]
    recorded = AuditEvent.objects.filter(action=PersonalAuditAction.PERSON_KEY_ERASED)
    assert sorted(recorded.values_list("object_type", flat=True)) == ["auth.user", "org.employee"]


def test_erase_person_keys_erases_nothing_when_refused(employee):
    with pytest.raises(PermissionDenied):
        erase_person_keys([("org.employee", employee.pk)], by=UserFactory())

    assert not PersonKey.objects.filter(erased_at__isnull=False).exists()


def test_new_events_about_an_erased_person_hold_no_readable_value(employee, admin_user):
    person_erase(label="org.employee", pk=employee.pk, by=admin_user)
    employee.full_name = "Someone Else"
    employee.save()

    latest = events_of(employee, AuditAction.UPDATE)[-1]
    assert latest.changes["full_name"] == [ERASED, ERASED] and latest.object_repr == ERASED


def test_the_admin_shows_the_values_and_erased_once_the_person_is_erased(
    client, employee, admin_user, django_assert_max_num_queries
):
    client.force_login(admin_user)
    created, updated = events_of(employee)[:2]
    change_url = reverse("admin:audit_auditevent_change", args=[updated.pk])

    page = client.get(change_url).content.decode()
    assert "Ada King" in page and "countess@example.com" in page
    with django_assert_max_num_queries(12):
        listing = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert f"Ada King ({employee.employee_number})" in listing

    person_erase(label="org.employee", pk=employee.pk, by=admin_user)

    page = client.get(change_url).content.decode()
    assert ERASED in page and "Ada King" not in page and "countess@example.com" not in page
    listing = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert ERASED in listing and "Ada King" not in listing


def test_a_users_name_and_email_are_encrypted_too():
    user = UserFactory(first_name="Grace", last_name="Hopper", email="grace@example.com")

    (created,) = events_of(user, AuditAction.CREATE)
    assert "Grace" not in _stored(created) and "grace@example.com" not in _stored(created)
    assert reveal_changes(created.changes)["last_name"] == [None, "Hopper"]


def test_bulk_writes_encrypt_the_personal_values_too():
    unit = OrgUnitFactory()
    (bulk,) = Employee.objects.bulk_create(
        [Employee(employee_number="B1", full_name="Bulk Person", email="bulk@example.com", org_unit=unit)]
    )
    Employee.objects.filter(pk=bulk.pk).audited_update(full_name="Bulk Renamed")

    created, updated = events_of(bulk)
    assert "Bulk Person" not in _stored(created) and "Bulk Renamed" not in _stored(updated)
    assert reveal_changes(updated.changes)["full_name"] == ["Bulk Person", "Bulk Renamed"]


def test_an_unregistered_models_events_are_unchanged():
    unit = OrgUnitFactory(name="Finance")

    (created,) = events_of(unit, AuditAction.CREATE)
    assert created.object_repr == str(unit)
    assert created.changes["name"] == [None, "Finance"]
    assert not any(is_encrypted(value) for pair in created.changes.values() for value in pair)


def test_a_long_object_text_still_fits_its_column_once_encrypted():
    person = EmployeeFactory(full_name="Ö" * 200)

    (created,) = events_of(person, AuditAction.CREATE)
    assert len(created.object_repr) <= AuditEvent._meta.get_field("object_repr").max_length
    assert str(reveal(created.object_repr)).startswith("ÖÖÖ")


@pytest.mark.django_db(transaction=True)
def test_the_hash_covers_the_ciphertext(employee):
    other = EmployeeFactory()
    _seal_all()
    assert audit_chain_verify().intact
    created = events_of(employee)[0]
    forged = events_of(other)[0].changes["email"][1]  # valid ciphertext, but not this event's
    changes = {**created.changes, "email": [None, forged]}

    tamper("UPDATE audit_event SET changes = %s WHERE id = %s", [json.dumps(changes), created.pk])

    report = audit_chain_verify()
    assert not report.intact
    assert "hash mismatch" in report.broken.reason


# ------------------------------------------------------------------------------------------ the actor's name


def test_a_persons_name_as_actor_is_stored_encrypted_and_a_process_name_in_clear(admin_user):
    unit = OrgUnitFactory()
    with acting_as(Actor(user_id=admin_user.pk, name="dpo")):
        unit.name = "Renamed by a person"
        unit.save()
    with acting_as(system_actor("reminders.plan")):
        unit.name = "Renamed by a process"
        unit.save()

    by_person, by_process = events_of(unit, AuditAction.UPDATE)
    assert is_encrypted(by_person.actor_name) and "dpo" not in _stored(by_person)
    assert reveal(by_person.actor_name) == "dpo"
    assert by_process.actor_name == "system: reminders.plan"


def test_the_actors_key_is_read_once_per_request_not_once_per_event(admin_user, django_assert_num_queries):
    units = [OrgUnitFactory(), OrgUnitFactory()]
    with acting_as(Actor(user_id=admin_user.pk, name="dpo")):
        units[0].name = "First"
        with django_assert_num_queries(4):  # savepoint-free: old values, UPDATE, person key, event
            units[0].save()
        units[1].name = "Second"
        with django_assert_num_queries(3):  # the same request and actor: no key read
            units[1].save()

    first, second = (events_of(unit, AuditAction.UPDATE)[0] for unit in units)
    assert first.actor_name == second.actor_name and reveal(second.actor_name) == "dpo"


def test_a_long_actor_name_still_fits_its_column_once_encrypted(admin_user):
    with acting_as(Actor(user_id=admin_user.pk, name="ö" * 150)):
        unit = OrgUnitFactory()

    (created,) = events_of(unit, AuditAction.CREATE)
    assert len(created.actor_name) <= AuditEvent._meta.get_field("actor_name").max_length
    assert str(reveal(created.actor_name)).startswith("ööö")


def test_the_admin_shows_the_actors_name_and_erased_person_once_erased(client, admin_user):
    actor = UserFactory(username="rita.vance", is_staff=True)
    with acting_as(Actor(user_id=actor.pk, name="rita.vance")):
        OrgUnitFactory(name="Finance")
    client.force_login(admin_user)
    listing = reverse("admin:audit_auditevent_changelist")

    assert "rita.vance" in client.get(listing, {"actor": actor.pk}).content.decode()

    person_erase(label="auth.user", pk=actor.pk, by=admin_user)

    page = client.get(listing, {"actor": actor.pk}).content.decode()
    assert f"Erased person #{actor.pk}" in page and "rita.vance</td>" not in page


# ------------------------------------------------------------------------- writes outside the ORM (PostgreSQL)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_the_database_trigger_names_personal_changes_without_their_values():
    user = UserFactory(username="grace", first_name="Grace", email="grace@example.com")
    recorded = len(events_of(user))

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE auth_user SET first_name = 'Amazing', email = 'amazing@example.com', is_staff = true WHERE id = %s",
            [user.pk],
        )

    (event,) = events_of(user)[recorded:]
    assert event.context["captured_by"] == "database trigger"
    assert event.changes == {
        "first_name": [OUTSIDE_APPLICATION, OUTSIDE_APPLICATION],
        "email": [OUTSIDE_APPLICATION, OUTSIDE_APPLICATION],
        "is_staff": [False, True],
    }
    assert event.object_repr == f"user #{user.pk}"
    assert "grace" not in _stored(event).lower() and "amazing" not in _stored(event).lower()
