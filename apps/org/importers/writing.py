"""Writing a checked org import: new rows in waves, parents first, changed rows in chunks, then the audit entry."""

from __future__ import annotations

import importlib
import importlib.util
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from ..models import Employee, OrgUnit
from .columns import ImportKind, ImportResult
from .planning import _Plan

# Existing rows are fetched for saving in chunks, which keeps each IN (...) below SQLite's parameter limit.
UPDATE_CHUNK = 500


def _write(plan: _Plan, kind: str) -> None:
    """Insert new rows parents first, so every link is set on insert, then save each changed existing row."""
    model: type[OrgUnit] | type[Employee] = OrgUnit if kind == ImportKind.UNITS else Employee
    key_field, link = ("code", "parent") if kind == ImportKind.UNITS else ("employee_number", "manager")
    ids = dict(plan.ids)
    for chunk in _chunks(plan.park_emails_of):
        # Frees addresses that move between people in this file; each holder's row then sets its new address.
        for employee in Employee.objects.in_bulk([ids[number] for number in chunk]).values():
            employee.email = f"import-swap-{employee.pk}@invalid.invalid"
            employee.save(update_fields=["email", "updated_at"])
    for wave in _waves(plan.creates, link):
        objects: list[Any] = [model(**{key_field: key}, **_resolved(plan.creates[key], link, ids)) for key in wave]
        # SQLite >= 3.35 and PostgreSQL return the new primary keys, which the next wave links to.
        model.objects.bulk_create(objects)
        ids.update((getattr(obj, key_field), obj.pk) for obj in objects)
    for chunk in _chunks(list(plan.updates)):
        instances = model.objects.in_bulk([ids[key] for key in chunk])
        for key in chunk:
            instance, changes = instances[ids[key]], _resolved(plan.updates[key], link, ids)
            for name, value in changes.items():
                setattr(instance, name, value)
            instance.save(update_fields=[*changes, "updated_at"])


def _resolved(values: dict[str, Any], link: str, ids: dict[str, int]) -> dict[str, Any]:
    """Return field values with the link key turned into a primary key."""
    resolved = {name: value for name, value in values.items() if name != link}
    if link in values:
        resolved[f"{link}_id"] = ids[values[link]] if values[link] else None
    return resolved


def _waves(creates: dict[str, dict[str, Any]], link: str) -> list[list[str]]:
    """Group new rows by their depth among the new rows, so each group links only to rows inserted before it."""
    depth: dict[str, int] = {}
    for key in creates:
        path: list[str] = []
        node = key
        while node in creates and node not in depth:
            if node in path:
                raise RuntimeError(f"Loop through '{node}' reached the write phase.")
            path.append(node)
            node = creates[node][link]
        level = depth.get(node, -1)
        for step in reversed(path):
            level += 1
            depth[step] = level
    waves: dict[int, list[str]] = defaultdict(list)
    for key, level in depth.items():
        waves[level].append(key)
    return [waves[level] for level in sorted(waves)]


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), UPDATE_CHUNK):
        yield keys[start : start + UPDATE_CHUNK]


def _audit_import(result: ImportResult) -> None:
    """Record the import in the audit trail, in the import's transaction, once apps.audit.services exists."""
    # The audit app is being built alongside; until its services module lands there is nothing to call.
    if importlib.util.find_spec("apps.audit.services") is None:
        return
    audit = importlib.import_module("apps.audit.services")
    model = OrgUnit if result.kind == ImportKind.UNITS else Employee
    audit.audit_record(
        action="import_made",
        object_type=model._meta.label_lower,
        object_repr=f"{result.file_name}: {result.summary()}",
        context={
            "kind": str(result.kind),
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "file_name": result.file_name,
        },
    )
