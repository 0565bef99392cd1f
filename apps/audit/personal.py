"""Personal values in the trail, encrypted with a key per person, so a person can be erased without breaking the chain.

An app declares which fields of its model are personal and whose (`apps.audit.registry.register_personal_fields`).
The capture stores those values (old and new) and the event's `object_repr` as a tagged string,
`"enc:v1:<person key id>:<base64(nonce + ciphertext)>"` (AES-GCM, 96-bit random nonce, the key id as associated
data); the chain hashes that string. `person_erase` destroys the key: the events keep their ciphertext and their
hashes, and `reveal` gives "[erased]" from then on. Readers that show values to people call `reveal` /
`reveal_changes`; the CSV export keeps the stored (encrypted) form.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone

from apps.common.context import Actor

from .actor import current_actor
from .constants import OBJECT_REPR_MAX_LENGTH
from .models import AuditEvent, PersonKey
from .registry import PersonalFields, register_actions

PREFIX = "enc:v1:"
# Shown in place of a value whose person was erased (and stored in place of new values about an erased person).
ERASED = "[erased]"
# Shown for a tagged value that does not decrypt (a key that never existed, a tampered ciphertext).
UNREADABLE = "[unreadable]"
# What the PostgreSQL net trigger on the auth tables (migration 0013) records for a personal value written outside
# the ORM: it has no key to encrypt with, so it names the change and never writes the value.
OUTSIDE_APPLICATION = "[changed outside the application]"
# Who may erase people's keys, besides a superuser (the permission is declared by apps.privacy).
ERASE_PERMISSION = "privacy.erase_person"
# The `actor_name` column's length.
ACTOR_NAME_MAX_LENGTH = 150
# Person ids per query when reading many people's keys (under SQLite's bound-parameter limit).
_KEY_CHUNK = 500
_NONCE_BYTES = 12
_TAG_BYTES = 16


class PersonalAuditAction(models.TextChoices):
    """The trail's events about personal keys."""

    PERSON_KEY_ERASED = "person_key_erased", "Person's key erased"


register_actions(PersonalAuditAction)


# ---------------------------------------------------------------------------------------------------- keys


def person_key_for(label: str, pk: Any) -> PersonKey:
    """The key of person (label, pk), created on first use (one row per person). An erased key is returned as is."""
    row, _ = PersonKey.objects.get_or_create(
        person_type=label.lower(), person_id=str(pk), defaults={"key": os.urandom(32)}
    )
    return row


def may_erase(by: Any) -> bool:
    """Whether `by` may erase people's keys: a superuser or a holder of `privacy.erase_person`; `by=None` only for a
    system process (a retention run, a command without a user), never for a request."""
    if by is None:
        actor = current_actor()
        return actor.user_id is None and (actor.name == "system" or actor.name.startswith("system:"))
    return bool(getattr(by, "is_superuser", False) or by.has_perm(ERASE_PERMISSION))


def _refuse_unless_allowed(by: Any) -> None:
    if not may_erase(by):
        raise PermissionDenied("Only HR with the right to erase personal data can erase a person from the audit trail.")


def _erase_key(label: str, pk: Any, by: Any) -> PersonKey:
    from .services import audit_record

    label = label.lower()
    row, created = PersonKey.objects.select_for_update().get_or_create(
        person_type=label, person_id=str(pk), defaults={"key": b"", "erased_at": timezone.now()}
    )
    if not created:
        if row.erased_at is not None:
            return row  # erased before: nothing more to do, nothing more to record
        row.key = b""
        row.erased_at = timezone.now()
        row.save(update_fields=["key", "erased_at"])
    audit_record(
        action=PersonalAuditAction.PERSON_KEY_ERASED,
        object_type=label,
        object_id=str(pk),
        context={"person_key": row.pk, "erased_by": getattr(by, "pk", None)},
    )
    return row


@transaction.atomic
def person_erase(*, label: str, pk: Any, by: Any) -> PersonKey:
    """Destroy the person's key (its bytes blanked, `erased_at` set) and record `person_key_erased`, without values.

    Every value encrypted with the key becomes unreadable for good; the events and their hashes do not change, so
    the chain still verifies. Erasing twice changes nothing more. Allowed to a superuser, a holder of
    `privacy.erase_person`, or a system process (`by=None`, see `may_erase`).
    """
    _refuse_unless_allowed(by)
    return _erase_key(label, pk, by)


@transaction.atomic
def erase_person_keys(person_key_ids: Iterable[tuple[str, Any]], *, by: Any) -> list[PersonKey]:
    """Erase the keys of one person (`apps.privacy.persons.Person.key_ids`: the employee, the user, a candidate's
    hiring cases) in one transaction, each as `person_erase` does: all or none. Same permission."""
    _refuse_unless_allowed(by)
    unique = dict.fromkeys((label.lower(), str(pk)) for label, pk in person_key_ids)
    return [_erase_key(label, pk, by) for label, pk in unique]


# ---------------------------------------------------------------------------------------------------- values


def is_encrypted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt_value(value: Any, key_row: PersonKey) -> str:
    """Return `value` (JSON-encoded) encrypted with the person's key as `enc:v1:<key id>:<base64 nonce+ct>`."""
    key = bytes(key_row.key)
    if key_row.erased_at is not None or len(key) != 32:
        raise ValueError(f"Person key {key_row.pk} is erased: nothing can be encrypted with it.")
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    sealed = AESGCM(key).encrypt(nonce, plain, str(key_row.pk).encode())
    return f"{PREFIX}{key_row.pk}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def _key_id(value: str) -> int | None:
    key_id, sep, _ = value[len(PREFIX) :].partition(":")
    return int(key_id) if sep and key_id.isdigit() else None


def load_keys(values: Iterable[Any]) -> dict[int, PersonKey]:
    """The key rows of every tagged value among `values`, in one query (none when there is no tagged value)."""
    ids = {key_id for value in values if is_encrypted(value) and (key_id := _key_id(value)) is not None}
    return PersonKey.objects.in_bulk(ids) if ids else {}


def reveal(value: Any, keys: Mapping[int, PersonKey] | None = None) -> Any:
    """Decrypt a tagged value ("[erased]" once its person was erased); any other value is returned as it is.

    `keys` (from `load_keys`) saves a query per value when revealing many.
    """
    if not is_encrypted(value):
        return value
    key_id = _key_id(value)
    if key_id is None:
        return UNREADABLE
    row = keys.get(key_id) if keys is not None else PersonKey.objects.filter(pk=key_id).first()
    if row is None:
        return UNREADABLE
    key = bytes(row.key)
    if row.erased_at is not None or len(key) != 32:
        return ERASED
    try:
        blob = base64.b64decode(value.rsplit(":", 1)[1], validate=True)
        plain = AESGCM(key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], str(key_id).encode())
        return json.loads(plain)
    except (InvalidTag, ValueError, binascii.Error):
        return UNREADABLE


def _pair_values(changes: Mapping[str, Any]) -> list[Any]:
    found = []
    for pair in changes.values():
        found.extend(pair if isinstance(pair, list) else [pair])
    return found


def reveal_changes(changes: Mapping[str, Any], keys: Mapping[int, PersonKey] | None = None) -> dict[str, Any]:
    """`changes` ({field: [old, new]}) with every tagged value revealed (keys read in one query)."""
    if keys is None:
        keys = load_keys(_pair_values(changes))
    return {
        name: [reveal(v, keys) for v in pair] if isinstance(pair, list) else reveal(pair, keys)
        for name, pair in changes.items()
    }


def reveal_events(events: Iterable[AuditEvent]) -> dict[int, PersonKey]:
    """The keys needed to reveal these events' `object_repr`, `actor_name` and `changes`, in one query (none when
    no value is encrypted)."""
    values: list[Any] = []
    for event in events:
        values.extend((event.object_repr, event.actor_name))
        values.extend(_pair_values(event.changes or {}))
        values.extend((event.context or {}).values())
    return load_keys(values)


def protected_context(
    instance: models.Model, registrations: Sequence[PersonalFields], values: Mapping[str, Any]
) -> dict[str, Any]:
    """Free text about a person that a domain event keeps in its context (a review comment, a decision note),
    encrypted with the key of the object's person (the first registration that names one): erasing the person
    makes it unreadable like their other values. Without a person the values are returned as they are."""
    for personal in registrations:
        person = personal.person(instance)
        if person is None:
            continue
        key_row = person_key_for(*person)
        erased = key_row.erased_at is not None
        return {
            name: value if value in (None, "") else (ERASED if erased else encrypt_value(value, key_row))
            for name, value in values.items()
        }
    return dict(values)


# ---------------------------------------------------------------------------------------------------- capture


def _fitting(text: str, key_row: PersonKey, max_length: int) -> str:
    """`text` encrypted, cut so the tagged string fits a column of `max_length` characters."""
    room = max_length - len(f"{PREFIX}{key_row.pk}:")
    budget = room // 4 * 3 - _NONCE_BYTES - _TAG_BYTES  # JSON bytes that fit once encrypted and base64-encoded
    while text and len(json.dumps(text, ensure_ascii=False).encode()) > budget:
        text = text[: max(len(text) - 8, 0)] if len(text) > 8 else text[:-1]
    return encrypt_value(text, key_row)


def _fitting_repr(text: str, key_row: PersonKey) -> str:
    """The object's text encrypted, cut so the tagged string fits the `object_repr` column."""
    return _fitting(text, key_row, OBJECT_REPR_MAX_LENGTH)


Identity = tuple[str, str]


def person_keys_for(identities: Iterable[Identity]) -> dict[Identity, PersonKey]:
    """The keys of many people, created where missing, in a few queries whatever their number (erased keys as
    they are): what a bulk write of rows about many people uses instead of `person_key_for` per row."""
    wanted = {(label.lower(), str(pk)) for label, pk in identities}
    if len(wanted) == 1:
        ((label, pk),) = wanted
        return {(label, pk): person_key_for(label, pk)}
    by_type: dict[str, list[str]] = {}
    for label, pk in sorted(wanted):
        by_type.setdefault(label, []).append(pk)

    def read() -> dict[Identity, PersonKey]:
        found = {}
        for label, ids in by_type.items():
            for start in range(0, len(ids), _KEY_CHUNK):
                rows = PersonKey.objects.filter(person_type=label, person_id__in=ids[start : start + _KEY_CHUNK])
                found.update({(row.person_type, row.person_id): row for row in rows})
        return found

    keys = read() if wanted else {}
    missing = wanted - keys.keys()
    if missing:
        PersonKey.objects.bulk_create(
            [PersonKey(person_type=label, person_id=pk, key=os.urandom(32)) for label, pk in sorted(missing)],
            ignore_conflicts=True,  # another transaction may create the same person's key at the same moment
        )
        by_type = {}
        for label, pk in sorted(missing):
            by_type.setdefault(label, []).append(pk)
        keys.update(read())
    return keys


def _identity(person: tuple[str, Any]) -> Identity:
    return (person[0].lower(), str(person[1]))


def _people(personal: PersonalFields, instances: list[models.Model]) -> list[tuple[str, Any] | None]:
    if personal.people is not None and len(instances) > 1:
        return list(personal.people(instances))
    return [personal.person(instance) for instance in instances]


def protect_events(items: Iterable[tuple[AuditEvent, models.Model, Sequence[PersonalFields]]]) -> None:
    """Encrypt the personal values of model events (changes and object text) with their people's keys, in place.

    Each field takes the key of the first registration whose person is known for the row, the object text the first
    such key. A registration is asked for the people of the rows that still need one (all rows at once when it can:
    `PersonalFields.people`), and the keys of everyone are read together (`person_keys_for`): a bulk write costs a
    few queries, not a few per row. About a person already erased, the values are stored as "[erased]".
    """
    states = [_Pending(event, instance, registrations) for event, instance, registrations in items]
    # Registrations in order, for every row that has them (rows of one model share their tuple of registrations).
    groups: dict[int, list[_Pending]] = {}
    for state in states:
        groups.setdefault(id(state.registrations), []).append(state)
    for group in groups.values():
        for personal in group[0].registrations:
            asking = [state for state in group if state.wants(personal)]
            for state, person in zip(asking, _people(personal, [s.instance for s in asking]), strict=True):
                if person is not None:
                    state.take(personal, _identity(person))
    identities = {identity for state in states for identity in state.identities()}
    if not identities:
        return
    keys = person_keys_for(identities)
    for state in states:
        state.apply(keys)


def protect_event(event: AuditEvent, instance: models.Model, registrations: Sequence[PersonalFields]) -> None:
    """`protect_events` for one event (a domain event about a person: `audit_record(obj=...)`)."""
    protect_events([(event, instance, registrations)])


class _Pending:
    """One event being protected: which of its fields go to which person, and whose key encrypts its text."""

    def __init__(self, event: AuditEvent, instance: models.Model, registrations: Sequence[PersonalFields]) -> None:
        self.event, self.instance, self.registrations = event, instance, registrations
        self.fields: dict[str, Identity] = {}
        self.repr_identity: Identity | None = None
        self.repr_done = not event.object_repr

    def _names(self, personal: PersonalFields) -> set[str]:
        return (personal.fields & self.event.changes.keys()) - self.fields.keys()

    def wants(self, personal: PersonalFields) -> bool:
        return bool(self._names(personal)) or not self.repr_done

    def take(self, personal: PersonalFields, identity: Identity) -> None:
        for name in self._names(personal):
            self.fields[name] = identity
        if not self.repr_done:
            self.repr_identity, self.repr_done = identity, True

    def identities(self) -> set[Identity]:
        found = set(self.fields.values())
        if self.repr_identity is not None:
            found.add(self.repr_identity)
        return found

    def apply(self, keys: Mapping[Identity, PersonKey]) -> None:
        changes = self.event.changes
        for name, identity in self.fields.items():
            key_row, pair = keys[identity], changes[name]
            changes[name] = [_protect(v, key_row) for v in pair] if isinstance(pair, list) else _protect(pair, key_row)
        if self.repr_identity is not None:
            key_row = keys[self.repr_identity]
            erased = key_row.erased_at is not None
            self.event.object_repr = ERASED if erased else _fitting_repr(self.event.object_repr, key_row)


def _protect(value: Any, key_row: PersonKey) -> Any:
    if value is None:
        return None
    return ERASED if key_row.erased_at is not None else encrypt_value(value, key_row)


# ---------------------------------------------------------------------------------------------------- actor


class _ActorNames(threading.local):
    """The stored form of the last human actor's name and the (request id, user id, name) it is for: one key read
    per request and actor, not one per event (the same ciphertext serves every event of the request)."""

    def __init__(self) -> None:
        self.key: tuple[str, int, str] | None = None
        self.value = ""


_actor_names = _ActorNames()


def stored_actor_name(actor: Actor, request_id: str) -> str:
    """What an event stores as `actor_name`: a human actor's name encrypted with their user's key ("[erased]" once
    erased); a system process ("system", "system: reminders.plan") or an anonymous visitor as it is."""
    if actor.user_id is None:
        return actor.name[:ACTOR_NAME_MAX_LENGTH]
    cache_key = (request_id, actor.user_id, actor.name)
    if request_id and _actor_names.key == cache_key:
        return _actor_names.value
    key_row = person_key_for("auth.user", actor.user_id)
    value = ERASED if key_row.erased_at is not None else _fitting(actor.name, key_row, ACTOR_NAME_MAX_LENGTH)
    _actor_names.key, _actor_names.value = cache_key, value
    return value
