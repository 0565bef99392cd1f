"""Factories for the audit app: events go through the chain like real ones."""

import factory
from django.contrib.auth.models import Group

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.evidence.constants import EvidenceAuditAction


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Group {n}")


class AuditEventFactory(factory.Factory):
    """A domain event appended with audit_record (the only way an event gets a place in the chain)."""

    class Meta:
        model = AuditEvent

    action = EvidenceAuditAction.EVIDENCE_SUBMITTED
    object_type = "evidence.evidence"
    object_id = factory.Sequence(str)
    object_repr = factory.Sequence(lambda n: f"Evidence {n}")
    changes = factory.LazyFunction(dict)
    context = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class, **kwargs):  # type: ignore[no-untyped-def]
        return audit_record(**kwargs)
