"""Nothing changes or removes an audit event: not the model, not a queryset, not SQL on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, models, transaction
from django.db.models import ProtectedError

from apps.audit.errors import AppendOnlyViolation
from apps.audit.models import AuditEvent, AuditSeal
from apps.audit.sealer import audit_seal_pending
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


def test_seals_cannot_be_saved_changed_or_deleted_outside_the_sealer():
    AuditEventFactory()
    audit_seal_pending()
    seal = AuditSeal.objects.get()

    with pytest.raises(AppendOnlyViolation):
        seal.save()
    with pytest.raises(AppendOnlyViolation):
        seal.delete()
    with pytest.raises(AppendOnlyViolation):
        AuditSeal.objects.update(hash="f" * 64)
    with pytest.raises(AppendOnlyViolation):
        AuditSeal.objects.all().delete()


def test_an_event_cannot_be_deleted_from_under_its_seal():
    event = AuditEventFactory()
    audit_seal_pending()

    with pytest.raises(ProtectedError), transaction.atomic():
        models.QuerySet(AuditEvent).filter(pk=event.pk).delete()  # a plain queryset: the model's own refuses first


@pytest.mark.postgres
def test_the_postgresql_triggers_refuse_update_and_delete_from_plain_sql():
    event = AuditEventFactory()
    audit_seal_pending()

    for sql in (
        "UPDATE audit_event SET object_repr = 'Forged' WHERE id = %s",
        "DELETE FROM audit_event WHERE id = %s",
        "UPDATE audit_seal SET hash = repeat('f', 64) WHERE event_id = %s",
        "DELETE FROM audit_seal WHERE event_id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])

    assert AuditEvent.objects.get(pk=event.pk).object_repr == event.object_repr
    assert AuditSeal.objects.filter(event=event).exists()
