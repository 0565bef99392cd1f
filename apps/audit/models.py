"""The audit trail: append-only events, each chained to the previous one by a SHA-256 hash."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models

from .constants import AuditAction
from .errors import AppendOnlyViolation


def _flush_queued(queryset: models.QuerySet[Any]) -> None:
    from .queue import flush_before_read

    flush_before_read(queryset.db)


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Reads of the trail; every bulk write that would change or remove events is refused.

    Every read first writes the events its transaction has queued (apps.audit.queue.queue_events), so a
    transaction always reads its own changes' events.
    """

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            _flush_queued(self)
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Any:
        _flush_queued(self)
        return super().iterator(chunk_size=chunk_size)

    def count(self) -> int:
        _flush_queued(self)
        return super().count()

    def exists(self) -> bool:
        _flush_queued(self)
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        _flush_queued(self)
        return super().aggregate(*args, **kwargs)

    def for_object(self, object_type: str, object_id: str) -> AuditEventQuerySet:
        return self.filter(object_type=object_type, object_id=str(object_id))

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyViolation("Audit events are append-only: they cannot be updated.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        raise AppendOnlyViolation("Audit events are append-only: they cannot be updated.")

    def delete(self) -> NoReturn:
        raise AppendOnlyViolation("Audit events are append-only: they cannot be deleted.")

    delete.queryset_only = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[AuditEvent]:
        """Append the events to the chain (sequence and hashes are assigned here, whatever was set)."""
        from .queue import append_events

        return append_events(list(objs), using=self.db)


class ChainSequenceField(models.PositiveBigIntegerField):
    """The chain position. On SQLite the column is declared INTEGER PRIMARY KEY, which makes it the table's rowid:
    one B-tree for rows and key instead of two, so each appended event writes one index page less."""

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class TrailJSONField(models.JSONField):
    """A JSONField without SQLite's JSON_VALID() check: the trail's writer stores only the canonical JSON it has
    just encoded and hashed (and verify_audit re-checks every hash), so the check would parse each event's
    changes a second time for nothing."""

    def db_check(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return None
        return super().db_check(connection)


class AuditEvent(models.Model):
    """One change or domain event: who, when, under which request, what changed, chained by hash."""

    sequence = ChainSequenceField(
        primary_key=True, help_text="Position in the chain: 1, 2, 3... without gaps, in commit order."
    )
    occurred_at = models.DateTimeField(db_index=True)
    actor_user_id = models.BigIntegerField(
        null=True, blank=True, help_text="Id of the user who acted; empty for system processes."
    )
    actor_name = models.CharField(max_length=150, help_text="Copy of the actor's name at the time.")
    actor_ip = models.CharField(max_length=45, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100, blank=True, help_text="'app_label.model_name' of the object.")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = TrailJSONField(default=dict, blank=True, help_text="{field: [old, new]}.")
    context = TrailJSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        # Few indexes on purpose: every audited save inserts here. Object history and dates are looked up;
        # actor, action and request-id searches scan (or narrow by date first): the admin's search ORs the
        # request id with text matches, which no index serves.
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_event_object_idx")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type} {self.object_repr}".strip()

    def save(self, *args: Any, using: str | None = None, **kwargs: Any) -> None:
        """Append a new event to the chain; an existing event can never be saved again."""
        from .queue import append_events

        if not self._state.adding:
            raise AppendOnlyViolation("Audit events are append-only: an existing event cannot be changed.")
        append_events([self], using=using)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refuse: the trail keeps every event."""
        raise AppendOnlyViolation("Audit events are append-only: they cannot be deleted.")
