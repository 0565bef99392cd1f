"""What keeps the map honest: names that exist, lookups that reach a person, erasures a field can take."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from .types import Entry, Erase, Subject

# What each kind of subject's lookup must reach.
_PERSON_MODELS = {"employee": "org.employee", "user": settings.AUTH_USER_MODEL.lower()}


def lookup_path(model: type[models.Model], lookup: str) -> list[models.Field]:
    """The fields a subject's lookup walks from `model` ("pk" is the model's primary key); FieldDoesNotExist when a
    step is missing or passes through something that is not a relation."""
    path: list[models.Field] = []
    current = model
    parts = lookup.split("__")
    for index, part in enumerate(parts):
        field = current._meta.pk if part == "pk" else current._meta.get_field(part)
        if not isinstance(field, models.Field) or (index < len(parts) - 1 and not field.is_relation):
            raise FieldDoesNotExist(f"{current._meta.label_lower}.{part} cannot be followed by a lookup.")
        path.append(field)
        if field.is_relation and field.related_model is not None and index < len(parts) - 1:
            current = field.related_model
    return path


def reached_label(model: type[models.Model], path: list[models.Field]) -> str:
    """The label of the model a lookup path ends on (the related model for a relation)."""
    last = path[-1]
    if last.is_relation and last.related_model is not None:
        return last.related_model._meta.label_lower
    owner = last.model if last.model is not None else model
    return owner._meta.label_lower


def subject_problem(entry: Entry, model: type[models.Model], subject: Subject) -> str | None:
    where = f"{entry.model} subject {subject.kind} {subject.lookup!r}"
    try:
        path = lookup_path(model, subject.lookup)
    except FieldDoesNotExist as exc:
        return f"{where}: {exc}"
    last = path[-1]
    if subject.kind == "candidate":
        if last.name != "candidate_email" or reached_label(model, path) != "cases.case" or len(path) > 2:
            return f"{where}: a candidate lookup ends at cases.Case.candidate_email, at most one step away."
        return None
    if subject.kind == "user" and not last.is_relation and last.name == "username":
        return None  # a login name recorded as text (axes): matched by the user's username
    if reached_label(model, path) != _PERSON_MODELS[subject.kind] or not (last.is_relation or last.primary_key):
        return f"{where}: does not reach {_PERSON_MODELS[subject.kind]}."
    if len(path) > 2:
        return f"{where}: at most one step through another model (the audit trail resolves it in one query)."
    unknown = [name for name in subject.fields if name not in {f.name for f in entry.personal_fields()}]
    if unknown:
        return f"{where}: names fields that are not personal fields of the entry: {unknown}."
    return None


def _erase_problem(entry: Entry, model_field: models.Field, erase: Erase, personal: bool) -> str | None:
    where = f"{entry.model}.{model_field.name}"
    if erase != Erase.KEEP and not personal:
        return f"{where}: only a personal field is erased."
    if erase == Erase.FILE and not isinstance(model_field, models.FileField):
        return f"{where}: FILE is for file fields."
    if erase == Erase.PSEUDONYM and not isinstance(model_field, models.CharField):
        return f"{where}: a pseudonym is text."
    if erase == Erase.BLANK and model_field.unique and not model_field.null:
        return f"{where}: a unique field is pseudonymised, not blanked."
    if erase == Erase.BLANK and not (
        model_field.null
        or model_field.has_default()
        or isinstance(model_field, models.CharField | models.TextField | models.JSONField)
    ):
        return f"{where}: cannot be blanked (not nullable, no default, not text)."
    return None


def entry_problems(entry: Entry) -> list[str]:
    """Every name in `entry` that does not exist, and every classification a field cannot take."""
    try:
        model = entry.model_class()
    except LookupError:
        return [f"{entry.model}: no such model."]
    problems = []
    concrete = {field.name: field for field in model._meta.concrete_fields}
    seen: set[str] = set()
    for field in entry.fields:
        if field.name in seen:
            problems.append(f"{entry.model}.{field.name}: classified twice.")
        seen.add(field.name)
        model_field = concrete.get(field.name)
        if model_field is None:
            problems.append(f"{entry.model}.{field.name}: no such concrete field.")
            continue
        problem = _erase_problem(entry, model_field, field.erase, field.personal)
        if problem:
            problems.append(problem)
    for subject in entry.subjects:
        problem = subject_problem(entry, model, subject)
        if problem:
            problems.append(problem)
    if entry.personal_fields() and not entry.subjects and entry.model not in _NO_LOOKUP:
        problems.append(f"{entry.model}: personal fields but no subject.")
    return problems


# Tables with personal data but no lookup to their person (the erasure deals with them as a whole).
_NO_LOOKUP = frozenset({"sessions.session", "audit.auditevent", "audit.personkey"})
