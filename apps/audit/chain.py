"""The hash chain: each sealed event's keyed hash (HMAC-SHA256 with AUDIT_CHAIN_KEY) over its canonical JSON, which
includes the previous event's hash.

Hashing happens in Python only, from the values as stored (the sealer reads them back before hashing), so
`verify_audit` recomputes exactly what was sealed. The key is not in the database: someone who can write the tables
cannot compute a valid hash for a forged or rewritten event. Each seal records its scheme; seals written before the
chain was keyed (plain SHA-256) keep verifying, and a plain seal after a keyed one is a forgery.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .constants import GENESIS_HASH, HashScheme
from .serialization import canonical_json, json_safe

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

# Break kinds, as verify_audit names them.
MISSING = "missing"
FORGED = "forged"


def chain_key() -> bytes:
    """The chain's secret key (settings.AUDIT_CHAIN_KEY) as bytes; an install without one cannot seal or verify."""
    key = getattr(settings, "AUDIT_CHAIN_KEY", "")
    if not key:
        raise ImproperlyConfigured("AUDIT_CHAIN_KEY is not set; the audit chain cannot be sealed or verified.")
    return key.encode() if isinstance(key, str) else bytes(key)


def hash_input(event: Mapping[str, Any]) -> bytes:
    """The bytes a seal's hash covers: the canonical JSON of HASHED_FIELDS, with the values as stored."""
    payload = {name: event[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = json_safe(payload["occurred_at"])
    return canonical_json(payload)


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

    Each row carries its seal's `scheme` (a row without one is checked as keyed). A plain SHA-256 seal after a keyed
    one, or after `unkeyed_until` (the last unkeyed sequence a signed checkpoint vouches for), is a forgery: anyone
    can compute a plain hash. `start` (sequence, hash) walks from a known head instead of the first event.
    """
    key = chain_key() if key is None else key
    expected, previous, count = start[0] + 1, start[1], 0
    last_unkeyed = min(start[0], unkeyed_until) if unkeyed_until is not None else 0
    keyed_seen = start[0] > last_unkeyed

    def broken(sequence: int, reason: str, kind: str = FORGED) -> ChainReport:
        return ChainReport(count, expected - 1, previous, ChainBreak(sequence, reason, kind), last_unkeyed=last_unkeyed)

    for row in rows:
        sequence = row["sequence"]
        if sequence != expected:
            return broken(expected, f"missing sequence (expected {expected}, found {sequence} next)", MISSING)
        if row["prev_hash"] != previous:
            return broken(sequence, "previous-hash mismatch (the event before it was changed, removed or reordered)")
        scheme = row.get("scheme", HashScheme.HMAC_SHA256)
        if scheme == HashScheme.SHA256:
            if keyed_seen or (unkeyed_until is not None and sequence > unkeyed_until):
                return broken(sequence, "unkeyed seal after keyed sealing began (anyone can compute a plain hash)")
            last_unkeyed = sequence
        elif scheme == HashScheme.HMAC_SHA256:
            if compute_hash(row, scheme=scheme, key=key) != row["hash"]:
                reason = "hash mismatch (the event's content was changed, or it was sealed with another key)"
                if not keyed_seen:
                    reason = (
                        "hash mismatch at the first keyed seal (key mismatch: AUDIT_CHAIN_KEY differs from the key "
                        "that sealed, or the event was changed)"
                    )
                return broken(sequence, reason)
            keyed_seen = True
        else:
            return broken(sequence, f"unknown hash scheme {scheme!r}")
        if scheme == HashScheme.SHA256 and compute_hash(row, scheme=scheme) != row["hash"]:
            return broken(sequence, "hash mismatch (the event's content was changed)")
        count += 1
        expected += 1
        previous = row["hash"]
    return ChainReport(count, expected - 1, previous, None, last_unkeyed=last_unkeyed)
