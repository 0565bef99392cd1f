"""Helpers for the audit tests: events of an object, and a valid edit of any audited model."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import factory
from django.db import models

import tests.factories
from apps.audit.models import AuditEvent
from apps.audit.registry import label_of


def events_of(obj: models.Model | tuple[str, Any], action: str | None = None) -> list[AuditEvent]:
    """The events recorded for one object (instance or (label, pk)), oldest first."""
    label, pk = obj if isinstance(obj, tuple) else (label_of(obj), obj.pk)
    events = AuditEvent.objects.filter(object_type=label, object_id=str(pk)).order_by("id")
    return list(events.filter(action=action) if action else events)


def factory_for(model: type[models.Model]) -> type[factory.django.DjangoModelFactory] | None:
    """Find the factory in tests/factories that builds `model`."""
    for module_info in pkgutil.iter_modules(tests.factories.__path__):
        module = importlib.import_module(f"tests.factories.{module_info.name}")
        for candidate in vars(module).values():
            if (
                isinstance(candidate, type)
                and issubclass(candidate, factory.django.DjangoModelFactory)
                and candidate._meta.model is not None
                and candidate._meta.get_model_class() is model
            ):
                return candidate
    return None


def _editable(field: models.Field) -> bool:
    return (
        field.editable
        and not field.primary_key
        and not field.is_relation
        and not field.choices
        and not getattr(field, "auto_now", False)
        and not getattr(field, "auto_now_add", False)
        and field.name != "password"
    )


# Models whose every field is set by a service (non-editable): the field to edit and its new value.
EDIT_HINTS: dict[str, tuple[str, Any]] = {"privacy.CandidateErasure": ("cause", "rejected_candidates")}


def an_edit(instance: models.Model) -> tuple[models.Field, Any]:
    """Pick a plain field of `instance` and a new valid value for it (text first, then flags, then numbers)."""
    if instance._meta.label in EDIT_HINTS:
        name, value = EDIT_HINTS[instance._meta.label]
        return instance._meta.get_field(name), value
    fields = [f for f in instance._meta.concrete_fields if _editable(f)]
    for kinds in (
        (models.TextField,),
        (models.CharField,),
        (models.BooleanField,),
        (models.PositiveSmallIntegerField,),
    ):
        for field in fields:
            if isinstance(field, kinds) and not isinstance(field, models.SlugField | models.EmailField):
                old = getattr(instance, field.attname)
                if isinstance(field, models.BooleanField):
                    return field, not old
                if isinstance(field, models.IntegerField):
                    return field, (old or 0) + 1
                return field, f"changed-{instance.pk}"[: field.max_length or 100]
    raise AssertionError(f"No plain field to edit on {instance._meta.label}; give this test a hint.")


def tamper(sql: str, params: list | None = None) -> None:
    """Change the audit tables behind the ORM's back, as a superuser would: on PostgreSQL the append-only triggers
    are disabled for the statement and enabled again after it."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE / TRUNCATE refuse while deferred checks wait
            cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
            cursor.execute("ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_append_only")
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
            cursor.execute("ALTER TABLE audit_seal ENABLE TRIGGER audit_seal_append_only")
