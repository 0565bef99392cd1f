"""The queryset every audited model uses, so bulk writes are audited or refused."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NoReturn, TypeVar

from django.db import models, transaction

from .errors import UnauditedBulkWrite

__all__ = ["AuditedQuerySet", "UnauditedBulkWrite"]

_M = TypeVar("_M", bound=models.Model)
# Rows read and written per statement by audited_update (keeps SQLite under its bound-parameter limit).
_CHUNK = 500


class AuditedQuerySet(models.QuerySet[_M]):
    """A queryset whose bulk writes write one audit event per row, or refuse to run.

    Subclass it for a model's reusable filters: `class PolicyQuerySet(AuditedQuerySet): ...` and
    `objects = PolicyQuerySet.as_manager()`.
    """

    def _spec(self) -> Any:
        from .registry import tracked_spec

        spec = tracked_spec(self.model)
        if spec is None:
            raise UnauditedBulkWrite(
                f"{self.model._meta.label} uses AuditedQuerySet but is not an audited model "
                "(its app must call apps.audit.registry.register_tracked_app in its AppConfig.ready())."
            )
        return spec

    def update(self, **kwargs: Any) -> int:
        """Refuse, except for the update Django makes itself through the base manager when a row that these rows
        point to is deleted (`on_delete=SET_NULL / SET_DEFAULT / SET(...)`): that one writes an event per row."""
        from .capture import deletion_cause

        cause = deletion_cause(self.model, kwargs)
        if cause is not None:
            deleted_label, attname = cause
            return self._update_with_events(
                kwargs, lambda old_values: {"cause": f"{deleted_label} {old_values.get(attname)} deleted"}
            )
        raise UnauditedBulkWrite(
            f"{self.model._meta.label}: QuerySet.update() would change rows without audit events. Use "
            f".audited_update({', '.join(kwargs) or '...'}=...) to write one event per row, or save() each object "
            "(a reverse foreign key's add(), remove() or clear() runs update(): pass bulk=False)."
        )

    def bulk_update(self, objs: Iterable[_M], fields: Any, batch_size: int | None = None) -> NoReturn:
        raise UnauditedBulkWrite(
            f"{self.model._meta.label}: bulk_update() would change rows without audit events. Use "
            ".audited_update(...) on a filtered queryset, or save(update_fields=[...]) each object."
        )

    def audited_update(self, **kwargs: Any) -> int:
        """Update the matching rows like update(), writing one event per changed row; return the row count."""
        return self._update_with_events(kwargs, lambda old_values: {"bulk": "audited_update"})

    def _update_with_events(
        self, kwargs: dict[str, Any], context_of: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> int:
        from .capture import changes_between, model_event, write_events
        from .constants import AuditAction

        if self.query.is_sliced:
            raise TypeError("Cannot update a query once a slice has been taken.")
        spec = self._spec()
        attnames = [f.attname for f in spec.fields]
        # FOR UPDATE cannot follow Meta.ordering joins
        plain: models.QuerySet[_M] = models.QuerySet(self.model, using=self.db).order_by()
        updated = 0
        with transaction.atomic(using=self.db, savepoint=False):
            pks = list(self.order_by().values_list("pk", flat=True).distinct())
            for start in range(0, len(pks), _CHUNK):
                chunk = plain.filter(pk__in=pks[start : start + _CHUNK])
                before = {obj.pk: obj for obj in chunk.select_for_update()}
                updated += chunk.update(**kwargs)
                after = chunk.in_bulk()
                events = []
                for pk, new in after.items():
                    old = before.get(pk)
                    if old is None:
                        continue
                    old_values = {name: getattr(old, name) for name in attnames}
                    new_values = {name: getattr(new, name) for name in attnames}
                    changes = changes_between(spec, old_values, new_values)
                    if changes.keys() - spec.auto_now:
                        events.append(model_event(spec, new, AuditAction.UPDATE, changes, **context_of(old_values)))
                write_events(events, using=self.db)
        return updated

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        """Insert objects like bulk_create(), writing one create event per object."""
        from .capture import created_changes, model_event, write_events
        from .constants import AuditAction

        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts") or any(args[1:]):
            raise UnauditedBulkWrite(
                f"{self.model._meta.label}: bulk_create() with ignore_conflicts/update_conflicts cannot tell which "
                "rows it created or changed, so it cannot be audited. Use get_or_create()/update_or_create()."
            )
        spec = self._spec()
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            if any(obj.pk is None for obj in created):
                raise UnauditedBulkWrite(
                    f"{self.model._meta.label}: the database did not return the new primary keys, so the "
                    "created rows cannot be audited."
                )
            events = [
                model_event(spec, obj, AuditAction.CREATE, created_changes(spec, obj), bulk="bulk_create")
                for obj in created
            ]
            write_events(events, using=self.db)
        return created
