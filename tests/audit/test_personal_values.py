"""A person's personal values are stored in the trail encrypted with their own key, so erasing the person makes
them unreadable for good while every hash, and so the chain, still holds."""

from __future__ import annotations

import json
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent, PersonKey
from apps.audit.personal import (
    ERASED,
    PREFIX,
    PersonalAuditAction,
    is_encrypted,
    person_erase,
    person_key_for,
    reveal,
    reveal_changes,
)
from apps.audit.sealer import audit_seal_pending, unsealed_events
from apps.audit.selectors import audit_chain_verify
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
    assert created.changes["employee_number"][1] == employee.employee_number  # not a personal field: clear


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


def test_only_an_administrator_can_erase(employee):
    with pytest.raises(PermissionDenied):
        person_erase(label="org.employee", pk=employee.pk, by=UserFactory())
    assert reveal(events_of(employee)[0].object_repr) != ERASED


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
