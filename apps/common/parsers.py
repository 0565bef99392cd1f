"""The API's JSON parser: refuses NUL characters anywhere in a body, as no text column can store one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class StrictJSONParser(JSONParser):
    """JSON, minus NUL characters: DRF's CharField refuses them, but a code looked up by a related field would reach
    PostgreSQL, which refuses NUL in text with an error (a 500). One check here covers every field."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if _has_nul(data):
            raise ParseError("JSON parse error - null characters (\\u0000) are not allowed.")
        return data
