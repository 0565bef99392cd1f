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

import orjson
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils.duration import duration_iso_string

_PLAIN = frozenset({type(None), bool, int, str})


def utc_iso(value: dt.datetime) -> str:
    """A datetime as json_safe() writes it: ISO 8601, in UTC when it is aware."""
    return (value.astimezone(dt.UTC) if value.tzinfo is not None else value).isoformat()


def json_safe(value: Any) -> Any:
    """Return `value` as JSON-safe data: dates ISO, Decimals as strings, bytes as a digest, FKs as ids.

    The result is also canonical for hashing: an integral float becomes an int (PostgreSQL's jsonb would
    give it back as one), so what is stored is exactly what was hashed.
    """
    if type(value) in _PLAIN:  # exactly these types: a bool must not become an int, an enum member is not a str
        return value
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, str):
        return str.__str__(value)  # a plain str, not a subclass such as SafeString
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() else value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return utc_iso(value)
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


# One encoder for every call (json.dumps() with options builds a new one each time).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json_text(data: Any) -> str:
    """Serialise JSON-safe `data` the one way the chain hashes it: sorted keys, no spaces."""
    return _CANONICAL.encode(data)


def canonical_json(data: dict[str, Any]) -> bytes:
    """Return the canonical JSON of `data` as UTF-8 bytes."""
    return canonical_json_text(data).encode()


def canonical_json_quick(data: dict[str, Any]) -> bytes | None:
    """orjson's rendering of the canonical JSON, several times faster: the same bytes as canonical_json() for every
    JSON value except floats in exponent notation (orjson writes `1e-7` where the standard library writes `1e-07`);
    None for an integer beyond 64 bits, which orjson refuses.

    Only for confirming a hash (apps.audit.chain): bytes equal to what was sealed prove the values equal, as both
    are faithful JSON encoders; a difference proves nothing until canonical_json() confirms it.
    """
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None
