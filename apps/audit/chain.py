"""The hash chain: each sealed event's keyed hash (HMAC-SHA256 with AUDIT_CHAIN_KEY) over its canonical JSON, which
includes the previous event's hash.

Hashing happens in Python only, from the values as stored (the sealer reads them back before hashing), so
`verify_audit` recomputes exactly what was sealed. The key is not in the database: someone who can write the tables
cannot compute a valid hash for a forged or rewritten event. Each seal records its scheme; seals written before the
chain was keyed (plain SHA-256) keep verifying, and a plain seal after a keyed one is a forgery.

Verifying reads each sealed row as a plain tuple (STORED_ROW: the seal's fields, then the event's, `changes` and
`context` as the JSON text the database stores) and first hashes orjson's rendering of the canonical JSON
(serialization.canonical_json_quick); only a seal that this does not confirm is hashed again the sealer's way
(json.loads, canonical_json) before it is called broken. A confirmation is a proof: equal bytes from two faithful JSON
encoders mean equal values. So the verdicts are the sealer's, at orjson's speed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .constants import GENESIS_HASH, HashScheme
from .serialization import canonical_json, canonical_json_quick, json_safe, utc_iso

# The fields the hash covers (the canonical JSON sorts them). `hash` is the output; txid and sealed_at are
# bookkeeping of the sealer and not part of what the event says.
HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_user_id",
    "actor_name",
    "actor_ip",
    "request_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "context",
    "prev_hash",
)
# What the hash covers of the event itself: all but the chain's own two fields, which its seal holds.
EVENT_HASHED_FIELDS = tuple(name for name in HASHED_FIELDS if name not in ("sequence", "prev_hash"))
# The event's JSON columns: the chain's readers read them as their stored text (StoredJSON, or plain text in a
# STORED_ROW).
JSON_FIELDS = ("changes", "context")
# A sealed row as the verifier reads it, a tuple in this order: the seal's own four fields, then the event's hashed
# fields (`occurred_at` a datetime, or the database's ISO text of it; `changes` and `context` their stored JSON text).
SEAL_FIELDS = ("sequence", "prev_hash", "hash", "scheme")
STORED_ROW = (*SEAL_FIELDS, *EVENT_HASHED_FIELDS)

# Break kinds, as verify_audit names them.
MISSING = "missing"
FORGED = "forged"


def chain_key() -> bytes:
    """The chain's secret key (settings.AUDIT_CHAIN_KEY) as bytes; an install without one cannot seal or verify."""
    key = getattr(settings, "AUDIT_CHAIN_KEY", "")
    if not key:
        raise ImproperlyConfigured("AUDIT_CHAIN_KEY is not set; the audit chain cannot be sealed or verified.")
    return key.encode() if isinstance(key, str) else bytes(key)


class StoredJSON:
    """A JSON column's value as the database stores it: its text (None for SQL NULL), not decoded yet."""

    __slots__ = ("text",)

    def __init__(self, text: str | None) -> None:
        self.text = text

    def decoded(self) -> Any:
        """The value as the sealer read it: Django's JSONField decodes with json.loads, and SQL NULL is None."""
        return None if self.text is None else json.loads(self.text)


def hash_input(event: Mapping[str, Any]) -> bytes:
    """The bytes a seal's hash covers: the canonical JSON of HASHED_FIELDS, with the values as stored."""
    payload = {name: event[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = json_safe(payload["occurred_at"])
    for name in JSON_FIELDS:
        if isinstance(payload[name], StoredJSON):
            payload[name] = payload[name].decoded()
    return canonical_json(payload)


def quick_hash_input(row: Mapping[str, Any]) -> bytes | None:
    """hash_input() through orjson, for a row whose JSON columns are StoredJSON (as chain_rows reads them): the
    same bytes but for floats in exponent notation (canonical_json_quick) and integers beyond 64 bits, which orjson
    reads as floats and writes as `1.8e19`, a form the standard library never writes (`1.8e+19`): such bytes never
    confirm a seal, and hash_input() decides. None where orjson cannot read or write the values at all."""
    changes, context = row["changes"], row["context"]
    if type(changes) is not StoredJSON or type(context) is not StoredJSON:
        return None
    return _quick_hash_input(
        (
            row["sequence"],
            row["prev_hash"],
            None,
            None,
            *(row[name] for name in EVENT_HASHED_FIELDS if name not in JSON_FIELDS),
            changes.text,
            context.text,
        )
    )


def stored_hash_input(row: Sequence[Any]) -> bytes | None:
    """quick_hash_input() for a STORED_ROW tuple, `occurred_at` read as stored_row_mapping() reads it."""
    if type(row[4]) is str:
        row = (*row[:4], _stored_time(row[4]), *row[5:])
    return _quick_hash_input(row)


def _quick_hash_input(row: Sequence[Any]) -> bytes | None:
    """The one place of the orjson rendering: HASHED_FIELDS' values in STORED_ROW order, the JSON columns as text."""
    (
        sequence,
        prev_hash,
        _,
        _,
        occurred_at,
        actor_user_id,
        actor_name,
        actor_ip,
        request_id,
        action,
        object_type,
        object_id,
        object_repr,
        changes,
        context,
    ) = row
    try:
        changes = None if changes is None else orjson.loads(changes)
        context = None if context is None else orjson.loads(context)
    except orjson.JSONDecodeError:  # e.g. NaN, which json.loads reads
        return None
    return canonical_json_quick(
        {
            "sequence": sequence,
            "occurred_at": utc_iso(occurred_at) if type(occurred_at) is dt.datetime else json_safe(occurred_at),
            "actor_user_id": actor_user_id,
            "actor_name": actor_name,
            "actor_ip": actor_ip,
            "request_id": request_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "object_repr": object_repr,
            "changes": changes,
            "context": context,
            "prev_hash": prev_hash,
        }
    )


def stored_row_mapping(row: Sequence[Any]) -> dict[str, Any]:
    """A STORED_ROW tuple as the mapping hash_input() and check_chain() take: the JSON columns as StoredJSON, the
    time as a datetime (text Python cannot read as one, e.g. beyond year 9999, stays text: it was never sealed, the
    sealer reads through Python datetimes, and as text it fails its hash check)."""
    mapping = dict(zip(STORED_ROW, row, strict=True))
    mapping["occurred_at"] = _stored_time(mapping["occurred_at"])
    for name in JSON_FIELDS:
        mapping[name] = StoredJSON(mapping[name])
    return mapping


def _stored_time(value: Any) -> Any:
    if type(value) is str:
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def stored_seal_matches(row: Sequence[Any], key: bytes, keyed: Any) -> bool:
    """Whether a STORED_ROW's hash is its HMAC-SHA256 (`keyed`: an HMAC object of `key`, copied for each row, cheaper
    than a new one): confirmed through orjson, else computed the sealer's way (stored JSON that does not decode was
    never sealed)."""
    quick = stored_hash_input(row)
    if quick is not None:
        mac = keyed.copy()
        mac.update(quick)
        if mac.hexdigest() == row[2]:
            return True
    try:
        return compute_hash(stored_row_mapping(row), key=key) == row[2]
    except ValueError:
        return False


def _keyed_seal_matches(row: Mapping[str, Any], key: bytes, keyed: Any) -> bool:
    """Whether the row's hash is its HMAC-SHA256 (`keyed`: an HMAC object of `key`, copied for each row): confirmed
    through orjson, else computed the sealer's way (stored JSON that does not decode was never sealed)."""
    quick = quick_hash_input(row)
    if quick is not None:
        mac = keyed.copy()
        mac.update(quick)
        if mac.hexdigest() == row["hash"]:
            return True
    try:
        return compute_hash(row, key=key) == row["hash"]
    except ValueError:
        return False


def compute_hash(event: Mapping[str, Any], *, scheme: str = HashScheme.HMAC_SHA256, key: bytes | None = None) -> str:
    """Return the event's hash under `scheme` (`event` maps HASHED_FIELDS to stored values).

    HMAC_SHA256 (every new seal) is keyed with `key`, by default AUDIT_CHAIN_KEY; SHA256 is the unkeyed hash of
    seals written before the chain was keyed.
    """
    data = hash_input(event)
    if scheme == HashScheme.HMAC_SHA256:
        return hmac.new(chain_key() if key is None else key, data, hashlib.sha256).hexdigest()
    if scheme == HashScheme.SHA256:
        return hashlib.sha256(data).hexdigest()
    raise ValueError(f"Unknown hash scheme {scheme!r}.")


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where the chain first breaks, what kind of break it is (MISSING or FORGED) and why."""

    sequence: int
    reason: str
    kind: str = FORGED


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of walking the sealed chain, and how many events still wait for the sealer."""

    count: int
    head_sequence: int
    head_hash: str
    broken: ChainBreak | None
    unsealed: int = 0
    last_unkeyed: int = 0  # the last sequence sealed with plain SHA-256 (0: the whole chain is keyed)

    @property
    def intact(self) -> bool:
        return self.broken is None


def check_chain(
    rows: Iterable[Mapping[str, Any]],
    *,
    key: bytes | None = None,
    unkeyed_until: int | None = None,
    start: tuple[int, str] = (0, GENESIS_HASH),
) -> ChainReport:
    """Walk sealed rows in sequence order and report the first gap, previous-hash mismatch or hash mismatch.

    Rows map HASHED_FIELDS, `hash` and `scheme` to stored values, `changes` and `context` decoded or as StoredJSON.
    Each row carries its seal's `scheme` (a row without one is checked as keyed). A plain SHA-256 seal after a keyed
    one, or after `unkeyed_until` (the last unkeyed sequence a signed checkpoint vouches for), is a forgery: anyone
    can compute a plain hash. `start` (sequence, hash) walks from a known head instead of the first event.
    """
    key = chain_key() if key is None else key
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    seals = (
        (row["sequence"], row["prev_hash"], row["hash"], row.get("scheme", HashScheme.HMAC_SHA256), row) for row in rows
    )
    return walk_chain(
        seals,
        keyed_matches=lambda seal: _keyed_seal_matches(seal[4], key, keyed),
        plain_matches=lambda seal: compute_hash(seal[4], scheme=HashScheme.SHA256) == seal[2],
        unkeyed_until=unkeyed_until,
        start=start,
    )


def check_stored_chain(
    rows: Iterable[Sequence[Any]],
    *,
    key: bytes | None = None,
    unkeyed_until: int | None = None,
    start: tuple[int, str] = (0, GENESIS_HASH),
    keyed_before: bool | None = None,
) -> ChainReport:
    """check_chain() for rows read as STORED_ROW tuples (apps.audit.verification reads the chain so).

    `keyed_before` says whether a keyed seal comes at or before `start` (a walk of one range of the chain knows it
    from the seals); None infers it as check_chain() does."""
    key = chain_key() if key is None else key
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    return walk_chain(
        rows,
        keyed_matches=lambda row: stored_seal_matches(row, key, keyed),
        plain_matches=lambda row: compute_hash(stored_row_mapping(row), scheme=HashScheme.SHA256) == row[2],
        unkeyed_until=unkeyed_until,
        start=start,
        keyed_before=keyed_before,
    )


def walk_chain(
    seals: Iterable[Sequence[Any]],
    *,
    keyed_matches: Callable[[Any], bool],
    plain_matches: Callable[[Any], bool],
    unkeyed_until: int | None,
    start: tuple[int, str],
    keyed_before: bool | None = None,
) -> ChainReport:
    """The walk check_chain() and check_stored_chain() share: each seal gives (sequence, prev_hash, hash, scheme)
    first; `keyed_matches(seal)` and `plain_matches(seal)` say whether its hash is right under its scheme."""
    expected, previous, count = start[0] + 1, start[1], 0
    if keyed_before is None:
        last_unkeyed = min(start[0], unkeyed_until) if unkeyed_until is not None else 0
        keyed_seen = start[0] > last_unkeyed
    else:  # a range's walk: it reports the plain seals it saw itself
        last_unkeyed, keyed_seen = 0, keyed_before

    def broken(sequence: int, reason: str, kind: str = FORGED) -> ChainReport:
        return ChainReport(count, expected - 1, previous, ChainBreak(sequence, reason, kind), last_unkeyed=last_unkeyed)

    for seal in seals:
        sequence = seal[0]
        if sequence != expected:
            return broken(expected, f"missing sequence (expected {expected}, found {sequence} next)", MISSING)
        if seal[1] != previous:
            return broken(sequence, "previous-hash mismatch (the event before it was changed, removed or reordered)")
        scheme = seal[3]
        if scheme == HashScheme.HMAC_SHA256:
            if not keyed_matches(seal):
                reason = "hash mismatch (the event's content was changed, or it was sealed with another key)"
                if not keyed_seen:
                    reason = (
                        "hash mismatch at the first keyed seal (key mismatch: AUDIT_CHAIN_KEY differs from the key "
                        "that sealed, or the event was changed)"
                    )
                return broken(sequence, reason)
            keyed_seen = True
        elif scheme == HashScheme.SHA256:
            if keyed_seen or (unkeyed_until is not None and sequence > unkeyed_until):
                return broken(sequence, "unkeyed seal after keyed sealing began (anyone can compute a plain hash)")
            last_unkeyed = sequence
            if not plain_matches(seal):
                return broken(sequence, "hash mismatch (the event's content was changed)")
        else:
            return broken(sequence, f"unknown hash scheme {scheme!r}")
        count += 1
        expected += 1
        previous = seal[2]
    return ChainReport(count, expected - 1, previous, None, last_unkeyed=last_unkeyed)
