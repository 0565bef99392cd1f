"""The one rule for control characters in text people or programs send us, and the form mixin that applies it.

Refused: the C0 controls except tab, line feed and carriage return (U+0000-U+0008, U+000B, U+000C,
U+000E-U+001F), DEL (U+007F) and the C1 controls (U+0080-U+009F). PostgreSQL refuses NUL in text (a 500 further
down) and the others are never typed by a person: they come from binary pasted into a field, a terminal escape
(U+001B) meant for whoever reads a log, or a probe. The line and paragraph separators U+2028/U+2029 are allowed:
they are ordinary (if rare) text that editors produce, every store takes them, and templates and JSON escape them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.deconstruct import deconstructible

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_CHARACTERS_MESSAGE = "Control characters are not allowed."
CONTROL_CHARACTERS_CODE = "control_characters"
FILE_NAME_MESSAGE = "The file name contains control characters; rename the file and retry."
# Where a problem that belongs to no single field is reported (DRF's key for it).
NON_FIELD = "non_field_errors"


def has_control_characters(text: str) -> bool:
    """Whether the text holds a character the rule refuses."""
    return CONTROL_CHARACTERS.search(text) is not None


def contains_control_characters(value: Any) -> bool:
    """Whether a parsed value (text, or lists and mappings of them, keys included) holds a refused character."""
    if isinstance(value, str):
        return has_control_characters(value)
    if isinstance(value, UploadedFile):
        return has_control_characters(value.name or "")
    if isinstance(value, Mapping):
        return any(contains_control_characters(key) or contains_control_characters(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_control_characters(item) for item in value)
    return False


def control_character_errors(items: Iterable[tuple[Any, Any]]) -> dict[str, list[str]]:
    """Field errors for the (name, value) pairs that hold refused characters: the field name as the key, or
    `non_field_errors` when the name itself is what holds them (it cannot be echoed back as a key)."""
    errors: dict[str, list[str]] = {}
    for name, value in items:
        key = str(name)
        if has_control_characters(key):
            errors[NON_FIELD] = ["A field name contains control characters, which are not allowed."]
        elif contains_control_characters(value):
            message = FILE_NAME_MESSAGE if _is_files(value) else CONTROL_CHARACTERS_MESSAGE
            errors[key] = [message]
    return errors


def _is_files(value: Any) -> bool:
    items = value if isinstance(value, list | tuple) else [value]
    return any(isinstance(item, UploadedFile) for item in items)


@deconstructible
class ProhibitControlCharactersValidator:
    """Field validator: refuse text with control characters (see the module's docstring for which)."""

    message = CONTROL_CHARACTERS_MESSAGE
    code = CONTROL_CHARACTERS_CODE

    def __call__(self, value: Any) -> None:
        if contains_control_characters(value):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProhibitControlCharactersValidator)

    def __hash__(self) -> int:
        return hash(self.code)


class ControlCharacterFormMixin:
    """For a Django form: a submitted value (or uploaded file name) with control characters is refused next to its
    field, before the field cleans it, so a lookup by the value never sends it to the database.

    Such a field is cleaned as if disabled (from its initial value, which the error then discards) and gets only
    this error; the re-rendered form shows the field as the person left it.
    """

    def full_clean(self) -> None:
        form: Any = self  # the mixin is used with forms.BaseForm
        refused = [name for name in form.fields if self._holds_control_characters(name)] if form.is_bound else []
        was_disabled = {name: form.fields[name].disabled for name in refused}
        for name in refused:
            form.fields[name].disabled = True
        try:
            super().full_clean()  # type: ignore[misc]
        finally:
            for name, disabled in was_disabled.items():
                form.fields[name].disabled = disabled
        for name in refused:
            form.errors.pop(name, None)
            message = (
                FILE_NAME_MESSAGE if isinstance(form.fields[name], forms.FileField) else CONTROL_CHARACTERS_MESSAGE
            )
            form.add_error(name, ValidationError(message, code=CONTROL_CHARACTERS_CODE))

    def _holds_control_characters(self, name: str) -> bool:
        form: Any = self
        field = form.fields[name]
        if field.disabled:
            return False
        value = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
        return contains_control_characters(value)
