"""What erasing a person stores in place of each erasable field of a row."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import models

from .types import Entry, Erase, Subject

# Pseudonyms by field name; "{pk}" is the row's primary key, so unique fields stay unique.
_PSEUDONYMS = {
    "employee_number": "ERASED-{pk}",
    "username": "erased-user-{pk}",
    "first_name": "Erased",
    "last_name": "person #{pk}",
    "title": "Erased evidence #{pk}",
}
_EMAIL_PSEUDONYM = "erased-{pk}@erased.invalid"
_NAME_PSEUDONYM = "Erased person #{pk}"


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _blank(model_field: models.Field, label: str) -> Any:
    if label == "auth.user" and model_field.name == "password":
        return make_password(None)  # an unusable password: nobody signs in as the erased person
    if model_field.has_default():
        return model_field.get_default()
    if model_field.null:
        return None
    if isinstance(model_field, models.JSONField):
        return {}
    return ""


def _pseudonym(model_field: models.Field, pk: Any) -> str:
    if isinstance(model_field, models.EmailField):
        template = _EMAIL_PSEUDONYM
    else:
        template = _PSEUDONYMS.get(model_field.name, _NAME_PSEUDONYM)
    text = template.format(pk=pk)
    return text[: model_field.max_length] if model_field.max_length else text


def erased_values(entry: Entry, row: models.Model, *, subject: Subject | None = None) -> dict[str, Any]:
    """{field name: value erasure stores} for the row's BLANK and PSEUDONYM fields (of `subject` only, when given).

    BLANK gives the field's default, else None when nullable, else "" ({} for JSON); an unusable password for a
    user. PSEUDONYM gives "Erased person #<pk>" (names), "erased-<pk>@erased.invalid" (e-mail), "ERASED-<pk>"
    (employee number), "erased-user-<pk>" (username): unique fields stay unique. A field already empty stays as
    it is (a candidate name is empty on an employee's case). FILE fields are not in the dict: the caller deletes
    the stored file.
    """
    opts = row._meta
    fields = entry.subject_fields(subject) if subject is not None else entry.personal_fields()
    values: dict[str, Any] = {}
    for field in fields:
        if field.erase not in (Erase.BLANK, Erase.PSEUDONYM):
            continue
        model_field = opts.get_field(field.name)
        if not isinstance(model_field, models.Field) or _is_empty(getattr(row, model_field.attname)):
            continue
        if field.erase == Erase.BLANK:
            values[field.name] = _blank(model_field, entry.model)
        else:
            values[field.name] = _pseudonym(model_field, row.pk)
    return values
