"""Access and portability (GDPR art. 15 and 20): everything about one person as one zip archive.

The archive holds `manifest.json` (who, when, every file with its size and SHA-256, the data-map entries used), one
JSON file per model with every classified field of the person's rows (`data/<app.model>.json`), the stored files of
those rows (`files/...`), and the audit events about the person's rows or done by the person
(`audit/events.json`). Values that belong to someone else on the same rows read "[another person]"; secrets
(password hashes, API token keys) are never exported. The archive is written to a temporary file, row by row and
event by event, so memory stays bounded whatever the person's history.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from apps.audit.models import AuditEvent, PersonKey
from apps.audit.personal import PREFIX, is_encrypted, load_keys, reveal
from apps.audit.services import audit_record

from .datamap import DATA_MAP, Entry, Erase
from .erasure import PrivacyRequestAction
from .persons import Person, rows_for

EXPORT_PERMISSION = "privacy.export_person"
ARCHIVE_FORMAT = "ritual-criteria-access-export/1"
ANOTHER_PERSON = "[another person]"
SECRET = "[secret: not exported]"  # noqa: S105 - what the archive shows in place of a secret
CHUNK = 500
# The trail is exported as events (audit/events.json), never as its tables; keys never leave the database.
_NOT_EXPORTED = frozenset({"audit.auditevent", "audit.auditseal", "audit.personkey", "sessions.session"})
# Secrets of the person's own rows: worth nothing to them and dangerous in an archive.
_SECRETS: dict[str, frozenset[str]] = {
    "auth.user": frozenset({"password"}),
    "authtoken.token": frozenset({"key"}),
    "authtoken.tokenproxy": frozenset({"key"}),
}


@dataclass
class AccessArchive:
    """A finished export: an open temporary file (deleted when closed), its download name and what it holds."""

    file: IO[bytes]
    filename: str
    size: int
    manifest: dict[str, Any] = field(default_factory=dict)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode()


class _Writer:
    """Writes zip members while counting their size and SHA-256 for the manifest."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.files: list[dict[str, Any]] = []
        # Stored files named by the rows being written, copied once the rows' member is closed (a zip writes one
        # member at a time): (archive name, the stored file).
        self.pending: list[tuple[str, FieldFile]] = []

    def copy_pending(self) -> None:
        for name, stored in self.pending:
            with stored.open("rb") as source:
                self.stream(name, iter(lambda: source.read(64 * 1024), b""))
        self.pending = []

    def stream(self, name: str, chunks: Iterable[bytes]) -> None:
        digest, size = hashlib.sha256(), 0
        with self.archive.open(name, "w", force_zip64=True) as member:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                member.write(chunk)
        self.files.append({"name": name, "size": size, "sha256": digest.hexdigest()})

    def json_array(self, name: str, items: Iterable[Any]) -> int:
        """Write items as a JSON array, one at a time; return how many."""
        count = 0

        def chunks() -> Iterator[bytes]:
            nonlocal count
            yield b"["
            for item in items:
                yield (b",\n" if count else b"\n") + _dumps(item)
                count += 1
            yield b"\n]\n"

        self.stream(name, chunks())
        return count


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(name))[:100] or "file"


# ---------------------------------------------------------------------------------------------------- rows


def _owned_by_row(entry: Entry, person: Person) -> dict[Any, set[str]]:
    """pk -> the personal fields of that row that are the person's (one query per subject of the entry)."""
    owned: dict[Any, set[str]] = {}
    for subject in entry.subjects:
        fields = {f.name for f in entry.subject_fields(subject)}
        for pk in rows_for(entry, person, subject=subject).values_list("pk", flat=True):
            owned.setdefault(pk, set()).update(fields)
    return owned


def _row_values(entry: Entry, row: models.Model, owned: set[str], writer: _Writer, label: str) -> dict[str, Any]:
    opts = row._meta
    secrets = _SECRETS.get(label, frozenset())
    data: dict[str, Any] = {"id": SECRET if opts.pk.name in secrets else row.pk}
    for classified in entry.fields:
        model_field = opts.get_field(classified.name)
        value = getattr(row, getattr(model_field, "attname", classified.name), None)
        if classified.name in secrets:
            value = SECRET if value else value
        elif classified.personal and classified.name not in owned and value not in (None, "", [], {}):
            value = ANOTHER_PERSON
        elif isinstance(value, FieldFile):
            if value and classified.erase == Erase.FILE:
                name = f"files/{label}/{row.pk}-{classified.name}-{_safe(value.name or '')}"
                writer.pending.append((name, value))
                value = name
            else:
                value = value.name or ""
        data[classified.name] = value
    return data


def _rows(entry: Entry, owned: dict[Any, set[str]], writer: _Writer, label: str) -> Iterator[dict[str, Any]]:
    model = entry.model_class()
    pks = sorted(owned)
    for start in range(0, len(pks), CHUNK):
        for row in model._default_manager.filter(pk__in=pks[start : start + CHUNK]).order_by("pk"):
            yield _row_values(entry, row, owned[row.pk], writer, label)


# ---------------------------------------------------------------------------------------------------- events


def _own_key_ids(person: Person) -> set[int]:
    query = Q()
    for person_type, person_id in person.key_ids:
        query |= Q(person_type=person_type.lower(), person_id=str(person_id))
    return set(PersonKey.objects.filter(query).values_list("pk", flat=True)) if query else set()


def _key_of(value: str) -> int | None:
    key_id, sep, _ = value[len(PREFIX) :].partition(":")
    return int(key_id) if sep and key_id.isdigit() else None


def _shown(value: Any, own: set[int], keys: dict[int, PersonKey]) -> Any:
    """A stored value as the person may see it: theirs revealed, anyone else's masked (recursively in JSON)."""
    if is_encrypted(value):
        return reveal(value, keys) if _key_of(value) in own else ANOTHER_PERSON
    if isinstance(value, list):
        return [_shown(item, own, keys) for item in value]
    if isinstance(value, dict):
        return {key: _shown(item, own, keys) for key, item in value.items()}
    return value


def _event_query(person: Person, touched: dict[str, list[Any]], own: set[int]) -> Q:
    query = Q(pk__in=[])
    for label, pks in touched.items():
        for start in range(0, len(pks), CHUNK):
            query |= Q(object_type=label, object_id__in=[str(pk) for pk in pks[start : start + CHUNK]])
    for key_id in own:  # rows of the person removed since (their text is under the person's key)
        query |= Q(object_repr__startswith=f"{PREFIX}{key_id}:")
    if person.user is not None:
        query |= Q(actor_user_id=person.user.pk)
    return query


def _events(person: Person, touched: dict[str, list[Any]], own: set[int]) -> Iterator[dict[str, Any]]:
    user_id = person.user.pk if person.user is not None else None
    about = {(label, str(pk)) for label, pks in touched.items() for pk in pks}
    events = AuditEvent.objects.filter(_event_query(person, touched, own)).order_by("id")
    batch: list[AuditEvent] = []

    def flush() -> Iterator[dict[str, Any]]:
        values: list[Any] = [e.actor_name for e in batch] + [e.object_repr for e in batch]
        for e in batch:
            values.append(e.changes)
        keys = load_keys(v for v in _flatten(values) if _key_of_or_none(v) in own)
        for event in batch:
            theirs = (event.object_type, event.object_id) in about or _key_of_or_none(event.object_repr) in own
            if event.actor_user_id is not None and event.actor_user_id == user_id:
                actor = _shown(event.actor_name, own, keys)
            elif event.actor_user_id is None and not is_encrypted(event.actor_name):
                actor = event.actor_name  # a system process
            else:
                actor = ANOTHER_PERSON
            yield {
                "id": event.pk,
                "occurred_at": event.occurred_at,
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "object": _shown(event.object_repr, own, keys),
                "actor": actor,
                "changes": _shown(event.changes or {}, own, keys),
                # What the event says about someone else's row is theirs: only the fact that the person acted is here.
                "context": _shown(event.context or {}, own, keys) if theirs else None,
            }

    for event in events.iterator(chunk_size=CHUNK):
        batch.append(event)
        if len(batch) == CHUNK:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def _flatten(values: Iterable[Any]) -> Iterator[Any]:
    for value in values:
        if isinstance(value, dict):
            yield from _flatten(value.values())
        elif isinstance(value, list):
            yield from _flatten(value)
        else:
            yield value


def _key_of_or_none(value: Any) -> int | None:
    return _key_of(value) if is_encrypted(value) else None


# ---------------------------------------------------------------------------------------------------- export


def _person_info(person: Person) -> dict[str, Any]:
    employee, user = person.employee, person.user
    return {
        "label": person.label,
        "employee_id": employee.pk if employee is not None else None,
        "employee_number": employee.employee_number if employee is not None else None,
        "user_id": user.pk if user is not None else None,
    }


@transaction.atomic
def export_person(*, person: Person, by: Any) -> AccessArchive:
    """Write the person's archive (needs `privacy.export_person`) and record `person_exported`, without content."""
    if by is None or not by.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied("You do not have permission to export a person's personal data.")
    now = timezone.now()
    handle: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
    entries: list[dict[str, Any]] = []
    touched: dict[str, list[Any]] = {}
    try:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            writer = _Writer(archive)
            for entry in DATA_MAP:
                label = entry.model.lower()
                if label in _NOT_EXPORTED or not entry.subjects:
                    continue
                owned = _owned_by_row(entry, person)
                if not owned:
                    continue
                touched[label] = sorted(owned)
                rows = writer.json_array(f"data/{label}.json", _rows(entry, owned, writer, label))
                writer.copy_pending()
                entries.append(
                    {
                        "model": label,
                        "file": f"data/{label}.json",
                        "rows": rows,
                        "fields": [f.name for f in entry.fields],
                        "purpose": entry.purpose,
                        "legal_basis": entry.legal_basis,
                        "retention": entry.retention,
                    }
                )
            own = _own_key_ids(person)
            events = writer.json_array("audit/events.json", _events(person, touched, own))
            manifest = {
                "format": ARCHIVE_FORMAT,
                "person": _person_info(person),
                "exported_by": {"id": by.pk, "username": by.get_username()},
                "exported_at": now,
                "entries": entries,
                "audit_events": events,
                "files": writer.files,
                "notes": [
                    f'"{ANOTHER_PERSON}" stands for a value that belongs to someone else on the same row.',
                    "Audit events about other people's rows show only that this person acted (no content).",
                    "Password hashes and API token keys are never exported.",
                ],
            }
            archive.writestr("manifest.json", _dumps(manifest))
        size = handle.tell()
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    subject = person.employee if person.employee is not None else person.user
    audit_record(
        action=PrivacyRequestAction.PERSON_EXPORTED,
        obj=subject,
        context={
            "rows": {entry["model"]: entry["rows"] for entry in entries},
            "files": len(writer.files),
            "audit_events": events,
            "size": size,
            "exported_by": by.pk,
        },
    )
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    who = person.employee.employee_number if person.employee is not None else f"user-{getattr(person.user, 'pk', 0)}"
    filename = f"personal-data-{_safe(who)}-{stamp}.zip"
    return AccessArchive(file=handle, filename=filename, size=size, manifest=manifest)
