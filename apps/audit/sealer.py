"""The sealer: gives committed events their chain position and hash, in a deterministic order, after commit.

Each seal's hash is keyed (HMAC-SHA256 with AUDIT_CHAIN_KEY, which is not in the database; apps.audit.chain), and
a beat task writes signed checkpoints of the head outside the database (apps.audit.checkpoints).

Events are written unsealed, through the ORM, in the transaction of the change they describe. The sealer numbers
and hashes them later, under a lock so that one sealer runs at a time, by inserting one `AuditSeal` row per event
(nothing updates an event):

- PostgreSQL: each event records its writing transaction's id (`pg_current_xact_id()`). Transactions commit in
  any order, so the sealer only takes events whose transaction id is below the oldest transaction still running
  (`pg_snapshot_xmin(pg_current_snapshot())`): none of those can still commit an event. It seals them ordered by
  (transaction id, event id), so an event that commits later never needs a place before one already sealed.
- SQLite has one writer at a time: event ids are already in commit order.

So every unsealed event comes after the last sealed one in that order, and the sealer finds them by an index range
from it. Each batch is one transaction: a sealer killed mid-batch seals nothing of that batch, and the next run
carries on from the last seal. A seal's unique event makes sealing one event twice impossible.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Min, Q
from django.utils import timezone

from .chain import EVENT_HASHED_FIELDS, chain_key, compute_hash
from .constants import CHAIN_LOCK_KEY, GENESIS_HASH, HashScheme
from .models import AuditEvent, AuditSeal

logger = logging.getLogger(__name__)

# Events sealed per transaction: bounds the sealer's memory and how long it holds the chain lock.
SEAL_BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class _Head:
    """The last seal, and the sealing key (writing transaction, event id) of its event."""

    sequence: int
    hash: str
    txid: int
    event_id: int


def _head(alias: str) -> _Head:
    last = (
        AuditSeal.objects.using(alias)
        .order_by("-sequence")
        .values_list("sequence", "hash", "event__txid", "event_id")
        .first()
    )
    if last is None:
        return _Head(0, GENESIS_HASH, 0, 0)
    return _Head(last[0], last[1], last[2] or 0, last[3])


def _after(head: _Head, vendor: str) -> Q:
    """Events after the last sealed one in sealing order: every unsealed event is among them (docs/audit.md)."""
    if vendor == "postgresql":
        return Q(txid__gt=head.txid) | Q(txid=head.txid, id__gt=head.event_id)
    return Q(id__gt=head.event_id)


def _postgresql_horizon(connection: BaseDatabaseWrapper) -> int:
    """The lowest transaction id that may still commit events: everything below it has ended."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
            "pg_current_xact_id_if_assigned()::text::bigint"
        )
        xmin, own = cursor.fetchone()
    # The sealer's own transaction has an id only when its caller wrote in it (a test, a command run inside a
    # service). Its events commit together with their seals, so they may be sealed when it is the oldest running.
    if own is not None and own <= xmin:
        return int(own) + 1
    return int(xmin)


def audit_seal(*, limit: int = SEAL_BATCH_SIZE, using: str | None = None) -> int:
    """Seal up to `limit` committed events, in sealing order, in one transaction; return how many were sealed."""
    alias = using or router.db_for_write(AuditEvent)
    connection = connections[alias]
    key = chain_key()  # before any work: an install without a key seals nothing rather than unkeyed
    with transaction.atomic(using=alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
        head = _head(alias)  # read under the lock: no other sealer moves it now
        pending = AuditEvent.objects.using(alias).filter(_after(head, connection.vendor))
        if connection.vendor == "postgresql":
            pending = pending.filter(txid__lt=_postgresql_horizon(connection)).order_by("txid", "id")
        else:
            pending = pending.order_by("id")  # one writer at a time: ids are in commit order
        rows = list(pending.values("id", *EVENT_HASHED_FIELDS)[:limit])
        sequence, previous, now = head.sequence, head.hash, timezone.now()
        seals = []
        for row in rows:
            sequence += 1
            row["sequence"], row["prev_hash"] = sequence, previous
            previous = compute_hash(row, scheme=HashScheme.HMAC_SHA256, key=key)
            seals.append(
                AuditSeal(
                    sequence=sequence,
                    event_id=row["id"],
                    prev_hash=row["prev_hash"],
                    hash=previous,
                    scheme=HashScheme.HMAC_SHA256,
                    sealed_at=now,
                )
            )
        AuditSeal.objects.using(alias).bulk_create(seals)
    return len(seals)


def audit_seal_pending(*, batch_size: int = SEAL_BATCH_SIZE, using: str | None = None) -> int:
    """Seal batch after batch until nothing committed is left unsealed; return how many were sealed."""
    total = 0
    while True:
        done = audit_seal(limit=batch_size, using=using)
        total += done
        if done < batch_size:
            return total


def unsealed_events(*, using: str | None = None) -> models.QuerySet[AuditEvent]:
    """The events the sealer has not chained yet (committed or not yet visible to it)."""
    alias = using or router.db_for_read(AuditEvent)
    return AuditEvent.objects.using(alias).filter(_after(_head(alias), connections[alias].vendor))


# The after-commit request, per process: a busy web server asks for one sealer run per interval, not one per
# transaction, and the run starts an interval later, so it seals what the process committed meanwhile too. Beat
# runs the sealer every AUDIT_SEAL_EVERY seconds anyway.
_kick_state: dict[str, float] = {"last": 0.0, "quiet_until": 0.0}


def kick_sealer(*, using: str | None = None) -> None:
    """Ask a worker to seal one kick interval after the current transaction commits, unless this process asked
    within the last interval (that run seals this transaction's events too)."""
    now = time.monotonic()
    if now - _kick_state["last"] < settings.AUDIT_SEAL_KICK_INTERVAL or now < _kick_state["quiet_until"]:
        return
    _kick_state["last"] = now
    transaction.on_commit(_publish_seal, using=using or router.db_for_write(AuditEvent))


def _publish_seal() -> None:
    from .tasks import seal

    try:
        seal.apply_async(countdown=settings.AUDIT_SEAL_KICK_INTERVAL, retry=False, ignore_result=True)
    except Exception as exc:  # noqa: BLE001 - a broker outage must not fail the change; beat seals later
        _kick_state["quiet_until"] = time.monotonic() + settings.AUDIT_SEAL_KICK_BACKOFF
        logger.warning("Could not ask a worker to seal the audit trail (%s); beat will seal it.", exc)


def unsealed_summary(*, using: str | None = None) -> dict[str, Any]:
    """How many events wait for the sealer and how old the oldest is, in seconds (None when none wait)."""
    pending = unsealed_events(using=using)
    oldest = pending.aggregate(oldest=Min("occurred_at"), count=Count("id"))
    age = None if oldest["oldest"] is None else round((timezone.now() - oldest["oldest"]).total_seconds(), 1)
    return {"unsealed": oldest["count"], "oldest_unsealed_age_seconds": age}
