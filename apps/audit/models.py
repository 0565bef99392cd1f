"""The audit trail: append-only events, written in the change's transaction, and their seals: each event's place
in the hash chain, written by the sealer after commit."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models, router, transaction
from django.utils import timezone

from .constants import HashScheme
from .errors import AppendOnlyViolation
from .querysets import AuditedQuerySet


class CurrentTransactionId(models.Func):
    """The id of the transaction writing the row: PostgreSQL's `pg_current_xact_id()`; NULL elsewhere.

    The sealer orders events by it and never seals past a transaction that is still running (docs/audit.md).
    """

    output_field = models.BigIntegerField()

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra_context: Any) -> tuple[str, tuple[Any, ...]]:
        return "NULL", ()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        # xid8 has no cast to bigint; its text form is the 64-bit number.
        return "pg_current_xact_id()::text::bigint", []


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Reads of the trail; no bulk write may change or remove an event."""

    def for_object(self, object_type: str, object_id: str) -> AuditEventQuerySet:
        return self.filter(object_type=object_type, object_id=str(object_id))

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyViolation("Audit events are append-only: they cannot be updated.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        raise AppendOnlyViolation("Audit events are append-only: they cannot be updated.")

    def delete(self) -> NoReturn:
        raise AppendOnlyViolation("Audit events are append-only: they cannot be deleted.")

    delete.queryset_only = True  # type: ignore[attr-defined]


class AuditEvent(models.Model):
    """One change or domain event: who, when, under which request, what changed (chained by its `seal`)."""

    occurred_at = models.DateTimeField(db_index=True)
    actor_user_id = models.BigIntegerField(
        null=True, blank=True, help_text="Id of the user who acted; empty for system processes."
    )
    actor_name = models.CharField(max_length=150, help_text="Copy of the actor's name at the time.")
    actor_ip = models.CharField(max_length=45, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=100, blank=True, help_text="'app_label.model_name' of the object.")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [old, new]}.")
    context = models.JSONField(default=dict, blank=True)
    txid = models.BigIntegerField(
        null=True,
        blank=True,
        editable=False,
        db_default=CurrentTransactionId(),
        help_text="The writing transaction (PostgreSQL; set by the database): the sealing order.",
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        db_table = "audit_event"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_event_object_idx2"),
            # The sealer's order: it takes the events after the last sealed one by (transaction, id).
            models.Index(fields=["txid", "id"], name="audit_event_seal_order_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type} {self.object_repr}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Append a new event; an existing event can never be saved again."""
        if not self._state.adding:
            raise AppendOnlyViolation("Audit events are append-only: an existing event cannot be changed.")
        self.occurred_at = self.occurred_at or timezone.now()
        super().save(*args, **{**kwargs, "force_insert": True})

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refuse: the trail keeps every event."""
        raise AppendOnlyViolation("Audit events are append-only: they cannot be deleted.")


class AuditSealQuerySet(models.QuerySet["AuditSeal"]):
    """Seals are written only by the sealer, in bulk; none is ever changed or removed."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyViolation("Audit seals are append-only: they cannot be updated.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        raise AppendOnlyViolation("Audit seals are append-only: they cannot be updated.")

    def delete(self) -> NoReturn:
        raise AppendOnlyViolation("Audit seals are append-only: they cannot be deleted.")

    delete.queryset_only = True  # type: ignore[attr-defined]


class AuditSeal(models.Model):
    """An event's place in the hash chain, written once by the sealer after the event committed."""

    sequence = models.PositiveBigIntegerField(
        primary_key=True, help_text="Position in the chain: 1, 2, 3... without gaps, in sealing order."
    )
    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="seal")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    scheme = models.CharField(
        max_length=16,
        choices=HashScheme.choices,
        help_text="How `hash` was computed: keyed with AUDIT_CHAIN_KEY (every new seal) or plain SHA-256 "
        "(seals written before the chain was keyed).",
    )
    sealed_at = models.DateTimeField(help_text="When the sealer chained the event.")

    objects = AuditSealQuerySet.as_manager()

    class Meta:
        db_table = "audit_seal"
        ordering = ["-sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} → event {self.event_id}"

    def save(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refuse: only the sealer writes seals (apps.audit.sealer), in bulk."""
        raise AppendOnlyViolation("Audit seals are written only by the sealer.")

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refuse: the chain keeps every seal."""
        raise AppendOnlyViolation("Audit seals are append-only: they cannot be deleted.")


# Where AuditedModel.save() leaves the stored values its caller passed (`audit_before`) for the capture.
AUDIT_BEFORE_ATTR = "_audit_before"


class AuditedModel(models.Model):
    """Base of every audited model of the product: a save outside a transaction runs in one of its own, so the
    change and its audit event (written by the capture's post_save receiver) commit together or not at all.

    `save(..., audit_before=values)`: a service that read the row with SELECT ... FOR UPDATE in this transaction
    and has not written it since passes the values it read (`apps.audit.capture.audit_snapshot`), and the capture
    compares with them instead of reading the row again.

    Its manager, `objects`, is also the model's base manager (`Meta.base_manager_name`; Django hands a parent's
    base manager name down to every subclass, Meta of its own or not): so `Model._base_manager` (related-object
    access, `refresh_from_db`, a reverse foreign key's `add()`, `on_delete=SET_NULL`) is the model's own
    `objects`, whose `update()` and `bulk_update()` refuse (Django's own SET_NULL update is audited) and whose
    `bulk_create()` is audited. Subclasses declare their own `objects` with a queryset subclassing
    `AuditedQuerySet` (checks `audit.W001`, `audit.W004`).
    """

    objects = AuditedQuerySet.as_manager()

    class Meta:
        abstract = True
        base_manager_name = "objects"

    def save(self, *args: Any, audit_before: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if audit_before is not None:
            setattr(self, AUDIT_BEFORE_ATTR, audit_before)
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        try:
            with transaction.atomic(using=using, savepoint=False):
                super().save(*args, **kwargs)
        finally:  # never left for a later save, should this one fail before the capture took them
            self.__dict__.pop(AUDIT_BEFORE_ATTR, None)


class PersonKey(models.Model):
    """The key that encrypts one person's personal values in the trail (apps.audit.personal).

    Not audited itself: a key must never reach the trail. Erasing the person blanks `key` and sets `erased_at`;
    the events keep their ciphertext (and their hashes), which can no longer be read.
    """

    person_type = models.CharField(max_length=100, help_text="'app_label.model_name' of the person, e.g. org.employee.")
    person_id = models.CharField(max_length=64)
    key = models.BinaryField(max_length=32, help_text="Random 256-bit AES-GCM key; empty once erased.")
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(null=True, blank=True, help_text="When the key was destroyed.")

    class Meta:
        db_table = "audit_person_key"
        constraints = [
            models.UniqueConstraint(fields=["person_type", "person_id"], name="audit_person_key_one_per_person")
        ]

    def __str__(self) -> str:
        return f"key {self.pk} of {self.person_type} {self.person_id}" + (" (erased)" if self.erased_at else "")
