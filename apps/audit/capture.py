"""Automatic capture: one event per create, update and delete of every audited model, with old and new values.

Events are written through the ORM at once, in the transaction of the change (`write_events`); the sealer chains
them after commit (apps.audit.sealer). Audited models of the product derive from `AuditedModel`, whose save runs
in a transaction of its own when none is open, so a change and its event always commit together.

Old values of an update are read from the database just before the UPDATE, for the fields being written, with
SELECT ... FOR UPDATE: exact whatever happened to the row since the instance was loaded (another request, another
instance of the same row, a bulk update). A snapshot taken when the instance was loaded would be wrong exactly when
it matters, after a concurrent or aliased write. Creates need no query; deletes use the instance's values (read
only for deferred fields, and fresh for the instance that delete() was called on).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connections, models, router, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from .actor import current_actor, current_request_id
from .constants import MASK_CHANGED, MASK_OLD, OBJECT_REPR_MAX_LENGTH, AuditAction
from .models import AUDIT_BEFORE_ATTR, AuditEvent
from .personal import protect_events, stored_actor_name
from .querysets import AuditedQuerySet
from .registry import TrackedModel, personal_fields, tracked_m2m, tracked_spec
from .sealer import kick_sealer
from .serialization import json_safe

# Old values read before a write, kept on the instance until the event is written.
OLD_VALUES_ATTR = "_audit_old_values"
_M2M_PENDING_ATTR = "_audit_m2m_pending"
# On an unsaved model event: the row and its personal-field registrations, until write_events encrypts its values.
_PROTECT_ATTR = "_audit_protect"
# Source ids per query when reading many-to-many memberships in bulk (under SQLite's bound-parameter limit).
_READ_CHUNK = 500
# Events per INSERT when a bulk write audits many rows at once: without a batch size, PostgreSQL receives one
# statement for the whole batch (349,000 rows of the 100,000-employee demo took a backend to 15 GB and the OOM killer).
WRITE_BATCH = 1000


class _Deleting(threading.local):
    """(model, foreign key name) -> label of the model being deleted, between pre_delete and post_delete."""

    def __init__(self) -> None:
        self.pending: dict[tuple[type[models.Model], str], str] = {}

    def setdefault(self, key: tuple[type[models.Model], str], label: str) -> None:
        self.pending.setdefault(key, label)

    def get(self, key: tuple[type[models.Model], str]) -> str | None:
        return self.pending.get(key)

    def clear(self) -> None:
        self.pending.clear()


_deleting = _Deleting()


# ---------------------------------------------------------------------------------------------------- values


def _stored_values(
    spec: TrackedModel, instance: models.Model, using: str, attnames: Iterable[str], *, lock: bool = False
) -> dict[str, Any]:
    rows = spec.model._base_manager.using(using).filter(pk=instance.pk).order_by()  # no joins from Meta.ordering
    if lock and connections[using].in_atomic_block:
        rows = rows.select_for_update()  # held to commit: nobody changes the row between this read and the write
    return rows.values(*attnames).first() or {}


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
    """Return the instance's loaded (not deferred) field values by attname."""
    deferred = instance.get_deferred_fields()
    return {name: getattr(instance, name) for name in spec.attnames if name not in deferred}


def audit_snapshot(instance: models.Model) -> dict[str, Any]:
    """The instance's values as just read from the database, to pass as `save(audit_before=...)` (see
    `AuditedModel`): JSON values copied, so later changes to the instance do not reach the snapshot."""
    spec = tracked_spec(type(instance))
    if spec is None:
        return {}
    return {name: copy.deepcopy(value) for name, value in values_of(spec, instance).items()}


def object_repr(instance: models.Model) -> str:
    """Return the object's text as shown on events, cut to the column's length."""
    try:
        text = str(instance)
    except Exception:  # a broken __str__ must not stop the change from being audited
        text = f"{instance._meta.object_name} {instance.pk}"
    return text[:OBJECT_REPR_MAX_LENGTH]


def created_changes(spec: TrackedModel, instance: models.Model) -> dict[str, list[Any]]:
    """Return [None, value] for every field of a new object (masked fields as MASK_CHANGED)."""
    changes = {}
    for name, attname in spec.names:
        value = json_safe(getattr(instance, attname))
        if name in spec.masked and value is not None:
            value = MASK_CHANGED
        changes[name] = [None, value]
    return changes


# ---------------------------------------------------------------------------------------------------- events


def _new_event(
    *, action: str, object_type: str, object_id: Any, object_repr: str, changes: dict[str, Any], context: dict[str, Any]
) -> AuditEvent:
    actor = current_actor()
    request_id = current_request_id()[:64]
    return AuditEvent(
        actor_user_id=actor.user_id,
        # A person's name is stored encrypted with their user's key (apps.audit.personal), a process's as it is.
        actor_name=stored_actor_name(actor, request_id),
        actor_ip=actor.ip or "",
        request_id=request_id,
        action=str(action),
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id)[:64],
        object_repr=(object_repr or "")[:OBJECT_REPR_MAX_LENGTH],
        changes=changes,
        context=context,
    )


def draft_event(
    *,
    action: str,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> AuditEvent:
    """Build an unsaved event attributed to the current actor and request, its data made JSON-safe."""
    return _new_event(
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        changes=json_safe(changes) if changes else {},
        context=json_safe(context) if context else {},
    )


def model_event(
    spec: TrackedModel, instance: models.Model, action: str, changes: dict[str, Any], **context: Any
) -> AuditEvent:
    """Build an unsaved create/update/delete event for `instance` (`changes` as the helpers above make them:
    JSON-safe already; `context` plain values). The personal values of a model registered with
    `register_personal_fields` are encrypted with their person's key (apps.audit.personal) when `write_events`
    writes the event: write it only with `write_events`."""
    event = _new_event(
        action=action,
        object_type=spec.label,
        object_id=instance.pk,
        object_repr=object_repr(instance),
        changes=changes,
        context=context,
    )
    personal = personal_fields(spec.label)  # one dict lookup: nothing more for a model without personal fields
    if personal is not None:
        # Encrypted by write_events, together with the other events it writes (keys read once for all of them).
        event.__dict__[_PROTECT_ATTR] = (instance, personal)
    return event


def write_events(events: list[AuditEvent], *, using: str | None = None) -> list[AuditEvent]:
    """Insert `events` now, unsealed, in the caller's transaction (one of their own when none is open), and ask
    for a sealer run once it commits. The personal values of model events are encrypted first, all events at once."""
    if not events:
        return events
    alias = using or router.db_for_write(AuditEvent)
    with transaction.atomic(using=alias, savepoint=False):
        pending = [(event, *event.__dict__.pop(_PROTECT_ATTR)) for event in events if _PROTECT_ATTR in event.__dict__]
        if pending:
            protect_events(pending)
        if len(events) == 1:  # one save's event: Model.save() costs less than bulk_create's batching
            events[0].save(using=alias)
        else:
            now = timezone.now()
            for event in events:
                event.occurred_at = event.occurred_at or now
            AuditEvent.objects.using(alias).bulk_create(events, batch_size=WRITE_BATCH)
        kick_sealer(using=alias)
    return events


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
    known = instance.__dict__.pop(AUDIT_BEFORE_ATTR, None)
    if known is not None and all(attname in known for attname in writing):
        setattr(instance, OLD_VALUES_ATTR, {attname: known[attname] for attname in writing})
        return
    setattr(instance, OLD_VALUES_ATTR, _stored_values(spec, instance, using, writing, lock=True))


def deletion_cause(model: type[models.Model], kwargs: dict[str, Any]) -> tuple[str, str] | None:
    """When Django is setting a foreign key because the row it points to is being deleted (`on_delete=SET_NULL`
    and the like, an update through the base manager), the deleted row's label and the key's attname."""
    if len(kwargs) != 1:
        return None
    (name,) = kwargs
    label = _deleting.get((model, name))
    return None if label is None else (label, getattr(model._meta.get_field(name), "attname", name))


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
        write_events(
            [model_event(spec, instance, AuditAction.CREATE, created_changes(spec, instance), **context)], using=using
        )
        return
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
    if changes.keys() - spec.auto_now:  # a save that only moved auto_now timestamps is not worth an event
        write_events([model_event(spec, instance, AuditAction.UPDATE, changes, **context)], using=using)


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
    setattr(
        instance, OLD_VALUES_ATTR, {**loaded, **_stored_values(spec, instance, using, missing)} if missing else loaded
    )
    # Rows that point here with on_delete=SET_NULL / SET_DEFAULT / SET(...) are changed by Django with a
    # plain UPDATE that sends no signal: record those changes now.
    cause = {"cause": f"{spec.label} {instance.pk} deleted"}
    events = []
    # Hidden relations (related_name="+") too: `_meta.related_objects` leaves them out, Django's collector does not.
    for rel in instance._meta.get_fields(include_hidden=True):
        if not isinstance(rel, models.ForeignObjectRel) or rel.many_to_many or not rel.field.concrete:
            continue
        sets_value, new_value = _on_delete_target(rel)
        related_spec = tracked_spec(rel.related_model)
        if not sets_value or related_spec is None:
            continue
        field = rel.field
        if isinstance(related_spec.model._base_manager.all(), AuditedQuerySet):
            # Django changes these rows through the base manager, which writes their events (with this cause).
            _deleting.setdefault((related_spec.model, field.name), spec.label)
            continue
        for related in related_spec.model._base_manager.using(using).filter(**{field.name: instance}):
            old = getattr(related, field.attname)
            changes = {field.name: _pair(related_spec, field, old, new_value)}
            events.append(model_event(related_spec, related, AuditAction.UPDATE, changes, **cause))
    if events:
        write_events(events, using=using)


def _after_delete(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    _deleting.clear()  # Django's on_delete updates ran before any post_delete
    spec = tracked_spec(sender)
    if spec is None:
        return
    old = instance.__dict__.pop(OLD_VALUES_ATTR, None) or values_of(spec, instance)
    changes = {f.name: _pair(spec, f, old.get(f.attname), None) for f in spec.fields}
    write_events([model_event(spec, instance, AuditAction.DELETE, changes)], using=using)


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
    write_events(events, using=using)


def m2m_bulk_add(
    through: type[models.Model], links: Mapping[models.Model, Iterable[Any]], *, batch_size: int | None = None
) -> int:
    """Link many source objects to many targets of one auto-created many-to-many table in a few statements, like
    `add()` (links that exist already are left alone), writing one update event per source whose set changed:
    `{field: [old ids, new ids]}`, as `add()` records it. Return the number of links inserted.

    `through` is `Model.field.through` of an audited model's many-to-many field; `links` maps each source object
    (an instance of the model holding the field, already saved) to the primary keys of its targets. This is the
    one way the product bulk-inserts into such a table (`through.objects.bulk_create()` would leave no event:
    `tests/audit/test_capture_coverage.py` fails on a product module that does it).
    """
    m2m = tracked_m2m(through)
    if m2m is None:
        raise ValueError(f"{through._meta.label} is not the auto-created table of an audited many-to-many field.")
    alias = router.db_for_write(through)
    sources = {source.pk: source for source in links}
    if None in sources:
        raise ValueError("m2m_bulk_add() needs saved source objects.")
    wanted = {source.pk: {target for target in targets} for source, targets in links.items()}
    with transaction.atomic(using=alias, savepoint=False):
        before: dict[Any, set[Any]] = {}
        ids = list(wanted)
        for start in range(0, len(ids), _READ_CHUNK):
            chunk = ids[start : start + _READ_CHUNK]
            before.update(_memberships(through, m2m.source_attname, m2m.target_attname, alias, chunk))
        rows = [
            through(**{m2m.source_attname: source_id, m2m.target_attname: target_id})
            for source_id, targets in wanted.items()
            for target_id in sorted(targets - before[source_id], key=repr)
        ]
        through._default_manager.using(alias).bulk_create(rows, batch_size=batch_size)
        events = []
        for source_id, targets in wanted.items():
            after = before[source_id] | targets
            if after != before[source_id]:
                pair = [json_safe(sorted(before[source_id])), json_safe(sorted(after))]
                events.append(
                    model_event(
                        m2m.source, sources[source_id], AuditAction.UPDATE, {m2m.field.name: pair}, bulk="m2m_bulk_add"
                    )
                )
        write_events(events, using=alias)
    return len(rows)


# ---------------------------------------------------------------------------------------------------- wiring


def connect_capture() -> None:
    """Connect the capture; called once from AuditConfig.ready().

    The receivers listen to every model and ask the registry whether the sender is audited, so an app that
    registers its models after the audit app is ready is captured all the same.
    """
    pre_save.connect(_before_save, weak=False, dispatch_uid="audit:capture")
    post_save.connect(_after_save, weak=False, dispatch_uid="audit:capture")
    pre_delete.connect(_before_delete, weak=False, dispatch_uid="audit:capture")
    post_delete.connect(_after_delete, weak=False, dispatch_uid="audit:capture")
    m2m_changed.connect(_m2m_changed, weak=False, dispatch_uid="audit:capture")
