"""Automatic capture: one event per create, update and delete of every audited model, with old and new values.

Old values of an update are read from the database just before the UPDATE, for the fields being written, with
SELECT ... FOR UPDATE: one indexed query per update, and exact whatever happened to the row since the instance
was loaded (another request, another instance of the same row, a bulk update). A snapshot taken when the instance
was loaded would save that query but would be wrong exactly when it matters, after a concurrent or aliased write
("last write wins" would revert someone's change without a trace). The one exception is a row the service has just
read with SELECT ... FOR UPDATE itself (`remember_locked_read`): nobody else can change it until the transaction
ends, and the values are used only while no audited write has happened on the connection since (another instance
of the same row may have been saved) and the savepoint of the read has not rolled back. Creates need no query;
deletes use the instance's values (read only for deferred fields, and fresh for the instance that delete() was
called on).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models, router, transaction
from django.db.models.base import ModelState
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from apps.common.prepared import PreparedQuery

from .actor import current_actor, current_request_id
from .constants import MASK_CHANGED, MASK_OLD, OBJECT_REPR_MAX_LENGTH, AuditAction
from .models import AuditEvent
from .queue import audited_writes, note_audited_write, queue_events
from .registry import TrackedModel, tracked_m2m, tracked_many_to_many, tracked_senders, tracked_spec
from .savepoints import savepoint_alive, savepoint_mark
from .serialization import TEXT_CONVERSIONS, CanonicalJSON, canonical_json_text, json_safe

# Old values read before a write, kept on the instance until the event is written.
OLD_VALUES_ATTR = "_audit_old_values"
# Values of a row read under lock by the service that saves it next (`remember_locked_read`).
LOCKED_READ_ATTR = "_audit_locked_read"
_M2M_PENDING_ATTR = "_audit_m2m_pending"
_PLAIN_TYPES = frozenset({type(None), bool, int, str})


# ---------------------------------------------------------------------------------------------------- values


# Old-value reads prepared once per (model, columns, lock, database): compiling the ORM query cost several times
# more than running it, on every audited update.
_prepared_reads: dict[tuple[Any, ...], PreparedQuery] = {}
_PREPARED_READS_MAX = 512
_SENTINEL_PK = -2_107_483_641  # no row has it (and within every integer range): the primary key's place


def _old_values(spec: TrackedModel, using: str, attnames: tuple[str, ...], lock: bool, pk: Any) -> models.QuerySet:
    rows = spec.model._base_manager.using(using).filter(pk=pk).order_by()  # no joins from Meta.ordering
    if lock:
        rows = rows.select_for_update()  # held to commit: nobody changes the row between this read and the write
    return rows.values(*attnames)


def _read_from_db(
    spec: TrackedModel, instance: models.Model, using: str, attnames: Iterable[str], *, lock: bool = False
) -> dict[str, Any]:
    lock = lock and connections[using].in_atomic_block
    columns = tuple(attnames)
    if type(instance.pk) is not int:
        return _old_values(spec, using, columns, lock, instance.pk).first() or {}
    key = (spec.model, columns, lock, using)
    prepared = _prepared_reads.get(key)
    if prepared is None:
        if len(_prepared_reads) >= _PREPARED_READS_MAX:
            _prepared_reads.clear()
        try:
            prepared = PreparedQuery(_old_values(spec, using, columns, lock, _SENTINEL_PK), _SENTINEL_PK)
        except EmptyResultSet:  # a primary key too small for the sentinel: the ORM each time
            return _old_values(spec, using, columns, lock, instance.pk).first() or {}
        _prepared_reads[key] = prepared
    return prepared.first(instance.pk) or {}


def _same(field: models.Field, old: Any, new: Any) -> bool:
    if old == new:
        return True
    if old is None or new is None or type(old) is type(new):
        return False
    # A value assigned as text ("2026-01-31") equals the date read back from the database.
    try:
        return field.to_python(old) == field.to_python(new)
    except Exception:  # an unparsable value is simply a change
        return False


def _pair(spec: TrackedModel, field: models.Field, old: Any, new: Any) -> list[Any]:
    if field.name in spec.masked:
        return [None if old is None else MASK_OLD, None if new is None else MASK_CHANGED]
    return [json_safe(old), json_safe(new)]


def changes_between(
    spec: TrackedModel, old: dict[str, Any], new: dict[str, Any], attnames: Iterable[str] | None = None
) -> dict[str, list[Any]]:
    """Return {field name: [old, new]} for the fields whose value differs between two attname->value maps."""
    wanted = None if attnames is None else set(attnames)
    changes = {}
    for field in spec.fields:
        if wanted is not None and field.attname not in wanted:
            continue
        before, after = old.get(field.attname), new.get(field.attname)
        if not _same(field, before, after):
            changes[field.name] = _pair(spec, field, before, after)
    return changes


def values_of(spec: TrackedModel, instance: models.Model) -> dict[str, Any]:
    """Return the instance's loaded field values by attname."""
    loaded = instance.__dict__
    return {name: loaded[name] for name in spec.attnames if name in loaded}


def object_repr(instance: models.Model) -> str:
    """Return the object's text as shown on events, cut to the column's length."""
    try:
        text = str(instance)
    except Exception:  # a broken __str__ must not stop the change from being audited
        text = f"{instance._meta.object_name} {instance.pk}"
    return text[:OBJECT_REPR_MAX_LENGTH]


# ---------------------------------------------------------------------------------------------------- events


def draft_event(
    *,
    action: str,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    changes_are_safe: bool = False,
) -> AuditEvent:
    """Build an unsaved event attributed to the current actor and request, its data made JSON-safe."""
    actor = current_actor()
    # Built without Model.__init__ (as Django's from_db does): this runs once per audited save.
    event = AuditEvent.__new__(AuditEvent)
    event._state = ModelState()
    event.__dict__.update(
        sequence=None,
        occurred_at=None,
        actor_user_id=actor.user_id,
        actor_name=actor.name[:150],
        actor_ip=actor.ip or "",
        request_id=current_request_id()[:64],
        action=str.__str__(action),
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id)[:64],
        object_repr=(object_repr or "")[:OBJECT_REPR_MAX_LENGTH],
        changes=(changes if changes_are_safe else json_safe(changes)) or {},
        context=json_safe(context) if context else {},
        prev_hash="",
        hash="",
    )
    return event


def model_event(
    spec: TrackedModel, instance: models.Model, action: str, changes: dict[str, Any], **context: Any
) -> AuditEvent:
    """Build an unsaved create/update/delete event for `instance`."""
    return draft_event(
        action=action,
        object_type=spec.label,
        object_id=instance.pk,
        object_repr=object_repr(instance),
        changes=changes,
        context=context,
        changes_are_safe=True,
    )


def _append(events: list[AuditEvent], using: str) -> None:
    queue_events(events, using=using)


def created_changes(spec: TrackedModel, instance: models.Model) -> dict[str, list[Any]]:
    """Return [None, value] for every field of a new object."""
    loaded = instance.__dict__
    plain = _PLAIN_TYPES
    changes = {}
    for name, attname in spec.names:  # runs once per audited create: kept lean
        value = loaded.get(attname)
        changes[name] = [None, value if type(value) in plain else json_safe(value)]
    for name in spec.masked:
        if name in changes:
            changes[name] = [None, None if changes[name][1] is None else MASK_CHANGED]
    return changes


# Per audited model: ('"name":[null,', attname, masked) for every field, sorted by name as canonical JSON sorts.
_created_layouts: dict[type[models.Model], tuple[tuple[str, str, bool], ...]] = {}
_encode_text = json.encoder.encode_basestring  # what the canonical encoder writes for a str (C when available)
_MASK_CHANGED_TEXT = _encode_text(MASK_CHANGED)


def _created_layout(spec: TrackedModel) -> tuple[tuple[str, str, bool], ...]:
    layout = _created_layouts.get(spec.model)
    if layout is None:
        layout = _created_layouts[spec.model] = tuple(
            (f"{_encode_text(name)}:[null,", attname, name in spec.masked) for name, attname in sorted(spec.names)
        )
    return layout


def created_changes_text(spec: TrackedModel, instance: models.Model) -> CanonicalJSON:
    """`created_changes` as canonical JSON text, written directly (no dict, no list per field).

    Exactly canonical_json_text(created_changes(spec, instance)) (tests/audit/test_capture_text.py).
    """
    loaded = instance.__dict__
    parts = []
    for prefix, attname, masked in _created_layout(spec):  # runs once per audited create: kept lean
        value = loaded.get(attname)
        kind = type(value)
        if value is None:
            text = "null"
        elif masked:
            text = "null" if json_safe(value) is None else _MASK_CHANGED_TEXT
        elif kind is str:
            text = _encode_text(value)
        elif kind is int:
            text = int.__repr__(value)
        elif kind is bool:
            text = "true" if value else "false"
        elif kind in TEXT_CONVERSIONS:  # dates, Decimals, UUIDs: JSON strings
            text = _encode_text(TEXT_CONVERSIONS[kind](value))
        else:
            text = canonical_json_text(json_safe(value))
        parts.append(f"{prefix}{text}]")
    return CanonicalJSON("{" + ",".join(parts) + "}")


def remember_locked_read(instance: models.Model) -> None:
    """`instance` was just read with SELECT ... FOR UPDATE in the open transaction, by the service that will save
    it next: its next save compares with these values instead of reading the row again.

    They are taken as they are now (JSON values copied), so call this before changing the instance. They are
    forgotten, and the row read again as usual, if an audited write happens on the connection first (another
    instance of the same row may have been saved), if the savepoint of the read rolls back (its lock with it), or
    outside a transaction.
    """
    spec = tracked_spec(type(instance))
    connection = connections[instance._state.db or router.db_for_write(type(instance), instance=instance)]
    if spec is None or not connection.in_atomic_block:
        return
    loaded = instance.__dict__
    values = {
        attname: copy.deepcopy(loaded[attname]) if type(loaded[attname]) in (list, dict) else loaded[attname]
        for attname in spec.attnames
        if attname in loaded
    }
    loaded[LOCKED_READ_ATTR] = (savepoint_mark(connection), audited_writes(connection), values)


def _locked_read_values(instance: models.Model, using: str, attnames: list[str]) -> dict[str, Any] | None:
    remembered = instance.__dict__.pop(LOCKED_READ_ATTR, None)
    if remembered is None:
        return None
    mark, writes, values = remembered
    connection = connections[using]
    if (
        not savepoint_alive(connection, mark)
        or audited_writes(connection) != writes
        or any(attname not in values for attname in attnames)
    ):
        return None
    return {attname: values[attname] for attname in attnames}


# ---------------------------------------------------------------------------------------------------- receivers


def _before_save(
    sender: type[models.Model],
    instance: models.Model,
    raw: bool,
    using: str,
    update_fields: frozenset[str] | None,
    **kwargs: Any,
) -> None:
    spec = tracked_spec(sender)
    if spec is None:
        return
    if instance._state.adding and (instance.pk is None or spec.pk_has_default) and not raw:
        return  # a plain insert: nothing to compare with
    # An update, or an insert that may hit an existing row (fixture load, hand-set primary key).
    writing = (
        spec.attnames
        if update_fields is None
        else [f.attname for f in spec.fields if f.name in update_fields or f.attname in update_fields]
    )
    known = _locked_read_values(instance, using, writing)
    instance.__dict__[OLD_VALUES_ATTR] = (
        known if known is not None else _read_from_db(spec, instance, using, writing, lock=True)
    )


def _after_save(
    sender: type[models.Model],
    instance: models.Model,
    created: bool,
    raw: bool,
    using: str,
    update_fields: frozenset[str] | None,
    **kwargs: Any,
) -> None:
    spec = tracked_spec(sender)
    if spec is None:
        return
    stored: dict[str, Any] = instance.__dict__.pop(OLD_VALUES_ATTR, None) or {}
    context = {"raw": True} if raw else {}
    if created:
        event = model_event(spec, instance, AuditAction.CREATE, created_changes_text(spec, instance), **context)
    else:
        current = values_of(spec, instance)
        if update_fields is None:
            saved = current
        else:
            saved = {
                f.attname: current[f.attname]
                for f in spec.fields
                if (f.name in update_fields or f.attname in update_fields) and f.attname in current
            }
        changes = changes_between(spec, stored, current, saved)
        event = None
        if changes.keys() - spec.auto_now:
            event = model_event(spec, instance, AuditAction.UPDATE, changes, **context)
    if event is not None:
        _append([event], using)  # counted as an audited write where it is queued
    else:
        note_audited_write(connections[using])  # only auto-updated fields changed: still a write of the row


def _on_delete_target(rel: models.ForeignObjectRel) -> tuple[bool, Any]:
    on_delete = rel.on_delete
    if on_delete is models.SET_NULL:
        return True, None
    if on_delete is models.SET_DEFAULT:
        return True, rel.field.get_default()
    deconstruct = getattr(on_delete, "deconstruct", None)
    if deconstruct is not None:  # models.SET(value)
        value = deconstruct()[1][0]
        value = value() if callable(value) else value
        return True, value.pk if isinstance(value, models.Model) else value
    return False, None


def _before_delete(
    sender: type[models.Model], instance: models.Model, using: str, origin: Any = None, **kwargs: Any
) -> None:
    spec = tracked_spec(sender)
    if spec is None:
        return
    # Rows gathered by the deletion itself were just read; the instance delete() was called on may be stale.
    loaded = values_of(spec, instance)
    stale = origin is instance
    missing = spec.attnames if stale else [name for name in spec.attnames if name not in loaded]
    instance.__dict__[OLD_VALUES_ATTR] = (
        {**loaded, **_read_from_db(spec, instance, using, missing)} if missing else loaded
    )
    # Rows that point here with on_delete=SET_NULL / SET_DEFAULT / SET(...) are changed by Django with a
    # plain UPDATE that sends no signal: record those changes now.
    cause = {"cause": f"{spec.label} {instance.pk} deleted"}
    events = []
    for rel in instance._meta.related_objects:
        if rel.many_to_many or not rel.field.concrete:
            continue
        sets_value, new_value = _on_delete_target(rel)
        related_spec = tracked_spec(rel.related_model)
        if not sets_value or related_spec is None:
            continue
        field = rel.field
        for related in related_spec.model._base_manager.using(using).filter(**{field.name: instance}):
            old = getattr(related, field.attname)
            changes = {field.name: _pair(related_spec, field, old, new_value)}
            events.append(model_event(related_spec, related, AuditAction.UPDATE, changes, **cause))
    if events:
        _append(events, using)


def _after_delete(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    spec = tracked_spec(sender)
    if spec is None:
        return
    old = instance.__dict__.pop(OLD_VALUES_ATTR, None) or values_of(spec, instance)
    changes = {f.name: _pair(spec, f, old.get(f.attname), None) for f in spec.fields}
    _append([model_event(spec, instance, AuditAction.DELETE, changes)], using)


def _memberships(through: type[models.Model], source: str, target: str, using: str, ids: Iterable[Any]) -> dict:
    members: dict[Any, set[Any]] = {source_id: set() for source_id in ids}
    rows = through._base_manager.using(using).filter(**{f"{source}__in": list(members)}).values_list(source, target)
    for source_id, target_id in rows:
        members[source_id].add(target_id)
    return members


def _m2m_changed(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    reverse: bool,
    model: type[models.Model],
    pk_set: set[Any] | None,
    using: str,
    **kwargs: Any,
) -> None:
    m2m = tracked_m2m(sender)
    if m2m is None:
        return
    phase, _, kind = action.partition("_")
    pending: dict[tuple[Any, str], Any] = instance.__dict__.setdefault(_M2M_PENDING_ATTR, {})
    if phase == "pre":
        if not reverse:
            sources = [instance.pk]
        elif pk_set is not None:
            sources = list(pk_set)
        else:  # reverse clear: every source linked to this target
            sources = list(
                sender._base_manager.using(using)
                .filter(**{m2m.target_attname: instance.pk})
                .values_list(m2m.source_attname, flat=True)
            )
        pending[(sender, kind)] = _memberships(sender, m2m.source_attname, m2m.target_attname, using, sources)
        return
    before = pending.pop((sender, kind), None)
    if before is None:
        return
    after = _memberships(sender, m2m.source_attname, m2m.target_attname, using, before)
    changed = [source_id for source_id in before if before[source_id] != after[source_id]]
    if not changed:
        return
    spec = m2m.source
    objects = {instance.pk: instance} if not reverse else spec.model._base_manager.using(using).in_bulk(changed)
    events = []
    for source_id in changed:
        obj = objects.get(source_id)
        if obj is None:
            continue
        pair = [json_safe(sorted(before[source_id])), json_safe(sorted(after[source_id]))]
        events.append(model_event(spec, obj, AuditAction.UPDATE, {m2m.field.name: pair}))
    _append(events, using)


# ---------------------------------------------------------------------------------------------------- wiring


def _atomic_save_base(original: Callable[..., Any]) -> Callable[..., Any]:
    # Django sends post_save after the save's own statement has committed when no transaction is open, so the
    # event would be written in a second transaction: run every save of an audited model in one instead.
    @functools.wraps(original)
    def save_base(self: models.Model, *args: Any, **kwargs: Any) -> Any:
        using = kwargs.get("using") or (args[3] if len(args) > 3 else None)
        using = using or router.db_for_write(self.__class__, instance=self)
        if connections[using].in_atomic_block:
            return original(self, *args, **kwargs)
        with transaction.atomic(using=using):
            return original(self, *args, **kwargs)

    save_base._audit_atomic = True  # type: ignore[attr-defined]
    return save_base


def connect_capture() -> None:
    """Connect the capture to every audited model; called once from AuditConfig.ready()."""
    for sender in tracked_senders():
        uid = f"audit:{sender._meta.label_lower}"
        pre_save.connect(_before_save, sender=sender, weak=False, dispatch_uid=uid)
        post_save.connect(_after_save, sender=sender, weak=False, dispatch_uid=uid)
        pre_delete.connect(_before_delete, sender=sender, weak=False, dispatch_uid=uid)
        post_delete.connect(_after_delete, sender=sender, weak=False, dispatch_uid=uid)
        if not getattr(sender.save_base, "_audit_atomic", False):
            sender.save_base = _atomic_save_base(sender.save_base)  # type: ignore[method-assign]
    for through in tracked_many_to_many():
        m2m_changed.connect(_m2m_changed, sender=through, weak=False, dispatch_uid=f"audit:{through._meta.label}")
