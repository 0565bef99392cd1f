"""The API's parsers: JSON, form and multipart bodies, refusing control characters in any text they carry.

Each parser parses as DRF does, then applies the rule of `apps.common.text` to every value (and, for uploads, every
file name) and answers 400 with the fields that hold a refused character: `{"title": ["Control characters are not
allowed."]}`. One check here covers every field of every endpoint, including codes a related field would look up
(PostgreSQL refuses NUL in text with an error: a 500).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser

from .text import NON_FIELD, contains_control_characters, control_character_errors


def _refuse(items: Iterable[tuple[Any, Any]]) -> None:
    if errors := control_character_errors(items):
        raise ValidationError(errors)


class StrictJSONParser(JSONParser):
    """JSON, minus control characters: errors keyed by the top-level field that holds one."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if isinstance(data, dict):
            _refuse(data.items())
        elif contains_control_characters(data):
            raise ValidationError({NON_FIELD: ["Control characters are not allowed."]})
        return data


class StrictFormParser(FormParser):
    """URL-encoded forms, minus control characters in names and values."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _refuse(data.lists())
        return data


class StrictMultiPartParser(MultiPartParser):
    """Multipart forms, minus control characters in field names, values and uploaded files' names."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> DataAndFiles:
        parsed = super().parse(stream, media_type, parser_context)
        _refuse([*parsed.data.lists(), *parsed.files.lists()])
        return parsed
