"""JSON-safe values for the trail, and the canonical JSON that the hash chain is computed over."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import math
import uuid
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils.duration import duration_iso_string


def json_safe(value: Any) -> Any:
    """Return `value` as JSON-safe data: dates ISO, Decimals as strings, bytes as a digest, FKs as ids."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return duration_iso_string(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, bytes | bytearray | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, models.Model):
        return json_safe(value.pk)
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_safe(item) for item in value]
        return _sorted(items) if isinstance(value, set | frozenset) else items
    return str(value)


def _sorted(items: list[Any]) -> list[Any]:
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


def _normalised(value: Any) -> Any:
    # PostgreSQL's jsonb may give back an integral float such as 1e20 as an int; hash both the same way.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _normalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalised(item) for item in value]
    return value


def canonical_json(data: dict[str, Any]) -> bytes:
    """Serialise `data` the one way the chain hashes it: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        _normalised(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
