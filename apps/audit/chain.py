"""The hash chain: each sealed event's SHA-256 over its canonical JSON, which includes the previous event's hash.

Hashing happens in Python only, from the values as stored (the sealer reads them back before hashing), so
`verify_audit` recomputes exactly what was sealed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .constants import GENESIS_HASH
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


def compute_hash(event: Mapping[str, Any]) -> str:
    """Return the SHA-256 of the event's canonical JSON (`event` maps HASHED_FIELDS to stored values)."""
    payload = {name: event[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = json_safe(payload["occurred_at"])
    return hashlib.sha256(canonical_json(payload)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where the chain first breaks, and why."""

    sequence: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of walking the sealed chain, and how many events still wait for the sealer."""

    count: int
    head_sequence: int
    head_hash: str
    broken: ChainBreak | None
    unsealed: int = 0

    @property
    def intact(self) -> bool:
        return self.broken is None


def check_chain(rows: Iterable[Mapping[str, Any]]) -> ChainReport:
    """Walk sealed rows in sequence order and report the first gap, previous-hash mismatch or hash mismatch."""
    expected, previous, count = 1, GENESIS_HASH, 0
    for row in rows:
        sequence = row["sequence"]
        if sequence != expected:
            reason = f"missing sequence (expected {expected}, found {sequence} next)"
            return ChainReport(count, expected - 1, previous, ChainBreak(expected, reason))
        if row["prev_hash"] != previous:
            reason = "previous-hash mismatch (the event before it was changed, removed or reordered)"
            return ChainReport(count, expected - 1, previous, ChainBreak(sequence, reason))
        if compute_hash(row) != row["hash"]:
            reason = "hash mismatch (the event's content was changed)"
            return ChainReport(count, expected - 1, previous, ChainBreak(sequence, reason))
        count += 1
        expected += 1
        previous = row["hash"]
    return ChainReport(count, expected - 1, previous, None)
