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
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone

from .constants import OBJECT_REPR_MAX_LENGTH
from .models import AuditEvent, PersonKey
from .registry import PersonalFields, register_actions

PREFIX = "enc:v1:"
# Shown in place of a value whose person was erased (and stored in place of new values about an erased person).
ERASED = "[erased]"
# Shown for a tagged value that does not decrypt (a key that never existed, a tampered ciphertext).
UNREADABLE = "[unreadable]"
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


@transaction.atomic
def person_erase(*, label: str, pk: Any, by: Any) -> PersonKey:
    """Destroy the person's key (its bytes blanked, `erased_at` set) and record `person_key_erased`, without values.

    Every value encrypted with the key becomes unreadable for good; the events and their hashes do not change, so
    the chain still verifies. Erasing twice changes nothing more. Only a superuser may erase.
    """
    from .services import audit_record

    if by is None or not getattr(by, "is_superuser", False):
        raise PermissionDenied("Only an administrator can erase a person's personal values from the audit trail.")
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
    return load_keys(values)


# ---------------------------------------------------------------------------------------------------- capture


def _fitting_repr(text: str, key_row: PersonKey) -> str:
    """The object's text encrypted, cut so the tagged string fits the `object_repr` column."""
    room = OBJECT_REPR_MAX_LENGTH - len(f"{PREFIX}{key_row.pk}:")
    budget = room // 4 * 3 - _NONCE_BYTES - _TAG_BYTES  # JSON bytes that fit once encrypted and base64-encoded
    while text and len(json.dumps(text, ensure_ascii=False).encode()) > budget:
        text = text[: max(len(text) - 8, 0)] if len(text) > 8 else text[:-1]
    return encrypt_value(text, key_row)


def protect_event(event: AuditEvent, instance: models.Model, personal: PersonalFields) -> None:
    """Encrypt the personal values of a model event (changes and object text) with the person's key, in place.

    About a person already erased, the values are stored as "[erased]": nothing readable reaches the trail.
    """
    person = personal.person(instance)
    if person is None:
        return
    key_row = person_key_for(*person)
    erased = key_row.erased_at is not None

    def protect(value: Any) -> Any:
        if value is None:
            return None
        return ERASED if erased else encrypt_value(value, key_row)

    changes = event.changes
    for name in personal.fields & changes.keys():
        pair = changes[name]
        changes[name] = [protect(v) for v in pair] if isinstance(pair, list) else protect(pair)
    if event.object_repr:
        event.object_repr = ERASED if erased else _fitting_repr(event.object_repr, key_row)
