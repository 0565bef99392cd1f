"""The audit trail encrypts every personal value of the map with the key of its own person.

For each entry with subjects, one registration per group of subjects sharing the same fields
(`apps.audit.registry.replace_personal_fields`): the first subject whose person is known for the row gives the
key. A subject's person is found from the row's own columns (`instance.owner_id`: no query) or, one step away
(`case__subject_employee`), with one query on the related row that reads every column the group needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import models

from apps.audit.constants import MASKED_FIELDS
from apps.audit.registry import PersonalFields, replace_personal_fields

from .checks import lookup_path
from .types import Entry, Subject

# The audit trail's person identities (apps.audit.personal.PersonKey.person_type).
PERSON_TYPES = {"employee": "org.employee", "user": "auth.user", "candidate": "cases.case"}

Person = tuple[str, Any] | None


def _direct(subject: Subject, field: models.Field) -> Callable[[Any], Person]:
    """A subject found on the row itself: its primary key, a foreign key's id, or a hiring case's own e-mail."""
    kind = PERSON_TYPES[subject.kind]
    if subject.kind == "candidate":
        return lambda row: (kind, row.pk) if getattr(row, field.attname) else None
    attname = field.attname

    def person(row: Any) -> Person:
        value = row.pk if field.primary_key else getattr(row, attname)
        return None if value is None else (kind, value)

    return person


_CHUNK = 500  # related ids per query (under SQLite's bound-parameter limit)


class _GroupResolver:
    """Find the person of rows by trying the subjects in order; the related rows one step away are read once per
    hop, with every column the group needs, for all the rows at once."""

    def __init__(self, model: type[models.Model], subjects: list[Subject]) -> None:
        self.steps = [(subject, lookup_path(model, subject.lookup)) for subject in subjects]
        # First hop (a foreign key's attname) -> (related model, the columns of the related row the group reads).
        self.hops: dict[str, tuple[type[models.Model], list[str]]] = {}
        for _, path in self.steps:
            if len(path) == 2:
                related, columns = self.hops.setdefault(path[0].attname, (path[0].related_model, []))  # type: ignore[arg-type]
                if path[1].attname not in columns:
                    columns.append(path[1].attname)
        self.direct = {subject: _direct(subject, path[0]) for subject, path in self.steps if len(path) == 1}

    def _read(self, rows: Sequence[Any], attname: str) -> dict[Any, dict[str, Any]]:
        related, columns = self.hops[attname]
        ids = sorted({getattr(row, attname) for row in rows} - {None}, key=str)
        found: dict[Any, dict[str, Any]] = {}
        for start in range(0, len(ids), _CHUNK):
            for values in related._base_manager.filter(pk__in=ids[start : start + _CHUNK]).values("pk", *columns):
                found[values.pop("pk")] = values
        return found

    def people(self, rows: Sequence[Any]) -> list[Person]:
        found: list[Person] = [None] * len(rows)
        read: dict[str, dict[Any, dict[str, Any]]] = {}
        for subject, path in self.steps:
            waiting = [i for i, person in enumerate(found) if person is None]
            if not waiting:
                break
            if len(path) == 1:
                for i in waiting:
                    found[i] = self.direct[subject](rows[i])
                continue
            hop, tail = path
            waiting = [i for i in waiting if getattr(rows[i], hop.attname) is not None]
            if not waiting:
                continue
            if hop.attname not in read:  # read only when a row still needs it
                read[hop.attname] = self._read([rows[i] for i in waiting], hop.attname)
            for i in waiting:
                related_id = getattr(rows[i], hop.attname)
                value = read[hop.attname].get(related_id, {}).get(tail.attname)
                if subject.kind == "candidate":
                    found[i] = (PERSON_TYPES["candidate"], related_id) if value else None
                else:
                    found[i] = None if value is None else (PERSON_TYPES[subject.kind], value)
        return found

    def person(self, row: Any) -> Person:
        return self.people([row])[0]


def registrations_for(entry: Entry) -> list[PersonalFields]:
    """The audit registrations of one entry: consecutive subjects with the same fields share one."""
    model = entry.model_class()
    masked = MASKED_FIELDS.get(entry.model, frozenset())  # never stored at all (a password): nothing to encrypt
    groups: list[tuple[frozenset[str], list[Subject]]] = []
    for subject in entry.subjects:
        if subject.lookup.split("__")[-1] == "username":
            continue  # a login name recorded as text (axes, not audited): no key to find
        fields = frozenset(field.name for field in entry.subject_fields(subject)) - masked
        if groups and groups[-1][0] == fields:
            groups[-1][1].append(subject)
        else:
            groups.append((fields, [subject]))
    resolvers = [(fields, _GroupResolver(model, subjects)) for fields, subjects in groups if fields]
    return [
        PersonalFields(label=entry.model, fields=fields, person=resolver.person, people=resolver.people)
        for fields, resolver in resolvers
    ]


def register_with_audit(entries: tuple[Entry, ...]) -> None:
    """Declare every entry's personal fields to the audit trail (called from PrivacyConfig.ready())."""
    for entry in entries:
        if entry.subjects:
            replace_personal_fields(entry.model, registrations_for(entry))
