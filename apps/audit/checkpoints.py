"""Signed checkpoints of the chain's head, written outside the database.

A checkpoint says "the sealed chain had this head (sequence, hash) at this time", signed with an Ed25519 key derived
from AUDIT_CHAIN_KEY (so no second secret to keep; the public key is in every checkpoint for anyone to check the
signature). It is written to AUDIT_CHECKPOINT_STORAGE, any Django storage backend (a folder by default, object
storage with a retention lock in production), as a new file each time, never overwritten:
`YYYY/MM/DD/<time>-<head>.json`, so the latest is found by listing three short folders, newest first.

Before writing, the writer checks that the chain still extends the previous checkpoint (its head still has the same
hash and every later seal links and verifies): a truncated or rewritten chain never gets a checkpoint that would make
it look right. `verify_audit` compares the chain with the latest checkpoint (apps.audit.verification).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import connections, router
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.module_loading import import_string

from .chain import EVENT_HASHED_FIELDS, JSON_FIELDS, ChainReport, StoredJSON, chain_key, check_chain
from .constants import CHECKPOINT_CACHE_KEY, CHECKPOINT_FORMAT, DEFAULT_BATCH_SIZE, GENESIS_HASH
from .models import AuditSeal
from .readahead import read_ahead

logger = logging.getLogger(__name__)

_SIGNING_CONTEXT = b"ritual-criteria audit checkpoint ed25519 v1"


class CheckpointError(Exception):
    """A checkpoint cannot be read, is not one of ours, or its signature does not verify."""


class CheckpointKeyMismatch(CheckpointError):
    """The checkpoint was signed with a key other than the one AUDIT_CHAIN_KEY gives."""


class ChainDoesNotExtendCheckpoint(Exception):
    """The chain no longer extends the latest checkpoint: no new checkpoint is written over it."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement of the chain's head. `count` is the number of sealed events (the chain has no gaps, so it
    equals `head_sequence`); `unkeyed_until` is the last sequence sealed with plain SHA-256 (0 when none)."""

    format: str
    head_sequence: int
    head_hash: str
    count: int
    unkeyed_until: int
    written_at: str
    reason: str
    public_key: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        fields = {name: value for name, value in asdict(self).items() if name != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def to_bytes(self) -> bytes:
        return (json.dumps(asdict(self), sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def _signing_key(key: bytes | None = None) -> Ed25519PrivateKey:
    seed = hmac.new(chain_key() if key is None else key, _SIGNING_CONTEXT, hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_text(key: bytes | None = None) -> str:
    """This install's checkpoint public key (base64 of the raw Ed25519 key): publish it to let others check."""
    raw = _signing_key(key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def checkpoint_storage() -> Storage:
    """The storage named by AUDIT_CHECKPOINT_STORAGE ({"BACKEND": dotted path, "OPTIONS": {...}})."""
    config: dict[str, Any] = settings.AUDIT_CHECKPOINT_STORAGE
    backend = import_string(str(config["BACKEND"]))
    options: dict[str, Any] = dict(config.get("OPTIONS") or {})
    return backend(**options)


def parse_checkpoint(data: bytes, *, key: bytes | None = None) -> Checkpoint:
    """Read a checkpoint file and check its signature against this install's key."""
    try:
        raw = json.loads(data.decode("utf-8"))
        if not isinstance(raw, dict) or raw.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"not an audit checkpoint (format is not {CHECKPOINT_FORMAT})")
        checkpoint = Checkpoint(
            format=raw["format"],
            head_sequence=int(raw["head_sequence"]),
            head_hash=str(raw["head_hash"]),
            count=int(raw["count"]),
            unkeyed_until=int(raw["unkeyed_until"]),
            written_at=str(raw["written_at"]),
            reason=str(raw["reason"]),
            public_key=str(raw["public_key"]),
            signature=str(raw["signature"]),
        )
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"not a readable audit checkpoint ({type(exc).__name__}: {exc})") from exc
    ours = public_key_text(key)
    if checkpoint.public_key != ours:
        raise CheckpointKeyMismatch(
            f"key mismatch: the checkpoint was signed with public key {checkpoint.public_key}, but this server's "
            f"AUDIT_CHAIN_KEY gives {ours} (the key differs from the one that sealed, or the file is not ours)"
        )
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(ours))
        public.verify(base64.b64decode(checkpoint.signature), checkpoint.signed_bytes())
    except (InvalidSignature, ValueError) as exc:
        raise CheckpointError("the checkpoint's signature does not verify (the file was altered)") from exc
    return checkpoint


def _listdir_desc(storage: Storage, path: str) -> tuple[list[str], list[str]]:
    try:
        folders, files = storage.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return [], []
    return sorted(folders, reverse=True), sorted(files, reverse=True)


def checkpoint_names(storage: Storage | None = None) -> Iterator[str]:
    """Names of the stored checkpoints, newest first (lazily: the first costs three or four short listings)."""
    storage = storage or checkpoint_storage()
    years, _ = _listdir_desc(storage, "")
    for year in years:
        months, _ = _listdir_desc(storage, year)
        for month in months:
            days, _ = _listdir_desc(storage, f"{year}/{month}")
            for day in days:
                _, files = _listdir_desc(storage, f"{year}/{month}/{day}")
                for name in files:
                    if name.endswith(".json"):
                        yield f"{year}/{month}/{day}/{name}"


def latest_checkpoint_name(storage: Storage | None = None) -> str | None:
    """The newest checkpoint's storage name, or None before the first."""
    return next(checkpoint_names(storage), None)


def read_checkpoint(name: str, *, storage: Storage | None = None) -> bytes:
    """The stored bytes of one checkpoint."""
    storage = storage or checkpoint_storage()
    with storage.open(name, "rb") as stream:
        return stream.read()


def latest_checkpoint(*, key: bytes | None = None) -> Checkpoint | None:
    """The newest checkpoint, its signature checked (CheckpointError if it does not verify); None before the first."""
    storage = checkpoint_storage()
    name = latest_checkpoint_name(storage)
    return None if name is None else parse_checkpoint(read_checkpoint(name, storage=storage), key=key)


def chain_rows(
    *,
    after: int = 0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    using: str | None = None,
    progress: Callable[[int], object] | None = None,
) -> Iterator[dict[str, Any]]:
    """Sealed rows after sequence `after`, in sequence order, keyed as the chain's functions expect, `changes` and
    `context` as their stored JSON text (StoredJSON: check_chain hashes it without the ORM decoding it first).

    Reads `batch_size` rows per query (keyset pagination on the sequence), the next batch while the caller checks
    the current one (apps.audit.readahead), so memory stays bounded whatever the chain's length; `progress(last
    sequence)` is called after each batch. On PostgreSQL the event's time is read as text and parsed with
    datetime.fromisoformat(), several times cheaper than the driver's loader (the same instant).
    """
    alias = using or router.db_for_read(AuditSeal)
    time_as_text = connections[alias].vendor == "postgresql"
    plain = [name for name in EVENT_HASHED_FIELDS if name not in JSON_FIELDS]
    names = ("sequence", "prev_hash", "hash", "scheme", *plain)
    seals = (
        AuditSeal.objects.using(alias)
        .order_by("sequence")
        .values_list(
            *names[:4],
            *(
                Cast(f"event__{name}", TextField()) if name == "occurred_at" and time_as_text else f"event__{name}"
                for name in plain
            ),
            *(Cast(f"event__{name}", TextField()) for name in JSON_FIELDS),
        )
    )

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        last = after
        while True:
            batch = list(seals.filter(sequence__gt=last)[:batch_size])
            if batch:
                yield batch
            if len(batch) < batch_size:
                return
            last = batch[-1][0]

    width = len(names)
    for batch in read_ahead(batches, using=alias):
        for values in batch:
            row = dict(zip(names, values, strict=False))
            row["changes"], row["context"] = StoredJSON(values[width]), StoredJSON(values[width + 1])
            if time_as_text:
                row["occurred_at"] = _stored_time(row["occurred_at"])
            yield row
        if progress is not None:
            progress(batch[-1][0])


def _stored_time(text: str) -> dt.datetime | str:
    """PostgreSQL's ISO text of a timestamptz as a datetime; a time Python cannot hold (beyond year 9999) stays text:
    it was never sealed (the sealer reads through Python datetimes), and as text it fails its hash check."""
    try:
        return dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return text


def _extend(previous: Checkpoint | None, key: bytes, using: str | None) -> ChainReport:
    """Check that the chain extends `previous` (or, for the first checkpoint, the whole chain); return its state."""
    if previous is None:
        report = check_chain(chain_rows(using=using), key=key)
    else:
        if previous.head_sequence:
            stored = AuditSeal.objects.using(using).filter(sequence=previous.head_sequence).values("hash").first()
            if stored is None:
                raise ChainDoesNotExtendCheckpoint(
                    f"sequence {previous.head_sequence}, the head of the latest checkpoint, is gone (truncated)"
                )
            if stored["hash"] != previous.head_hash:
                raise ChainDoesNotExtendCheckpoint(
                    f"sequence {previous.head_sequence}'s hash differs from the latest checkpoint's (rewritten)"
                )
        rows = chain_rows(after=previous.head_sequence, using=using)
        report = check_chain(
            rows,
            key=key,
            unkeyed_until=previous.unkeyed_until,
            start=(previous.head_sequence, previous.head_hash or GENESIS_HASH),
        )
        report = ChainReport(
            report.count + previous.head_sequence,
            report.head_sequence,
            report.head_hash,
            report.broken,
            last_unkeyed=max(report.last_unkeyed, previous.unkeyed_until),
        )
    if report.broken is not None:
        raise ChainDoesNotExtendCheckpoint(
            f"the chain breaks at sequence {report.broken.sequence}: {report.broken.reason}"
        )
    return report


def write_checkpoint(*, reason: str, force: bool = False, using: str | None = None) -> Checkpoint | None:
    """Write a signed checkpoint of the sealed head to AUDIT_CHECKPOINT_STORAGE, as a new file; return it.

    Returns None without writing when the head has not moved since the latest checkpoint (unless `force`). Raises
    ChainDoesNotExtendCheckpoint, writing nothing, when the chain no longer extends the latest checkpoint, and
    CheckpointError when the latest checkpoint does not verify.
    """
    key = chain_key()
    storage = checkpoint_storage()
    previous = latest_checkpoint(key=key)
    report = _extend(previous, key, using)
    if previous is not None and previous.head_sequence == report.head_sequence and not force:
        return None
    now = timezone.now().astimezone(dt.UTC)
    checkpoint = Checkpoint(
        format=CHECKPOINT_FORMAT,
        head_sequence=report.head_sequence,
        head_hash=report.head_hash,
        count=report.count,
        unkeyed_until=report.last_unkeyed,
        written_at=now.isoformat(),
        reason=reason,
        public_key=public_key_text(key),
    )
    signature = base64.b64encode(_signing_key(key).sign(checkpoint.signed_bytes())).decode()
    signed = Checkpoint(**{**asdict(checkpoint), "signature": signature})
    name = f"{now:%Y/%m/%d}/{now:%Y%m%dT%H%M%S.%fZ}-{signed.head_sequence:012d}.json"
    storage.save(name, ContentFile(signed.to_bytes()))  # a storage never overwrites: a taken name gets a suffix
    try:
        cache.set(CHECKPOINT_CACHE_KEY, now.timestamp(), timeout=None)
    except Exception:  # noqa: BLE001 - the cache only serves /healthz
        logger.warning("Could not note the audit checkpoint's time in the cache.")
    return signed


def checkpoint_age_seconds() -> float | None:
    """Seconds since this install last wrote a checkpoint (from the cache: no storage access), None if unknown."""
    try:
        written = cache.get(CHECKPOINT_CACHE_KEY)
    except Exception:  # noqa: BLE001 - a cache outage must not break the health check
        return None
    return None if written is None else round(timezone.now().timestamp() - float(written), 1)
