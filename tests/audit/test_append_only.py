"""Nothing changes or removes an audit event: not the model, not a queryset, not SQL on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit.errors import AppendOnlyViolation
from apps.audit.models import AuditEvent
from tests.factories.audit import AuditEventFactory

pytestmark = pytest.mark.django_db


def test_an_event_cannot_be_saved_again():
    event = AuditEventFactory()
    event.object_repr = "Forged"

    with pytest.raises(AppendOnlyViolation):
        event.save()

    assert AuditEvent.objects.get(pk=event.pk).object_repr != "Forged"


def test_an_event_cannot_be_deleted():
    event = AuditEventFactory()

    with pytest.raises(AppendOnlyViolation):
        event.delete()
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.count() == 1


def test_events_cannot_be_bulk_updated():
    event = AuditEventFactory()

    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.update(object_repr="Forged")
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.bulk_update([event], ["object_repr"])


def test_a_new_event_saved_directly_is_appended_to_the_chain_whatever_it_claims():
    first = AuditEventFactory()
    event = AuditEvent(action="login", actor_name="someone", sequence=99, hash="f" * 64, prev_hash="0" * 64)

    event.save()

    assert event.sequence == first.sequence + 1
    assert event.prev_hash == first.hash
    assert event.hash != "f" * 64


@pytest.mark.postgres
def test_the_postgresql_trigger_refuses_update_and_delete_from_plain_sql():
    event = AuditEventFactory()

    for sql in (
        "UPDATE audit_auditevent SET object_repr = 'Forged' WHERE sequence = %s",
        "DELETE FROM audit_auditevent WHERE sequence = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [event.sequence])

    assert AuditEvent.objects.get(pk=event.pk).object_repr == event.object_repr
