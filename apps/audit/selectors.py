"""Reads of the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db import models
from django.db.models import F
from django.utils import timezone

from .chain import HASHED_FIELDS, ChainReport, check_chain
from .constants import DEFAULT_BATCH_SIZE
from .models import AuditEvent, AuditSeal
from .sealer import unsealed_events


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_event_list(*, since: dt.date | None = None, until: dt.date | None = None) -> models.QuerySet[AuditEvent]:
    """Events that occurred from the start of `since` to the end of `until` (both days included), oldest first."""
    events = AuditEvent.objects.order_by("id")
    if since is not None:
        events = events.filter(occurred_at__gte=_start_of(since))
    if until is not None:
        events = events.filter(occurred_at__lt=_start_of(until + dt.timedelta(days=1)))
    return events


_SEALED_ROW = {
    "sequence": F("sequence"),
    "prev_hash": F("prev_hash"),
    "hash": F("hash"),
    **{name: F(f"event__{name}") for name in HASHED_FIELDS if name not in ("sequence", "prev_hash")},
}


def _chain_rows(batch_size: int) -> Iterator[dict[str, Any]]:
    seals = AuditSeal.objects.order_by("sequence")
    last = 0
    while True:
        # Any: the values() keys are built at run time, so the row type cannot know them.
        batch: list[Any] = list(
            seals.filter(sequence__gt=last).values(**{f"v_{k}": v for k, v in _SEALED_ROW.items()})[:batch_size]
        )
        for row in batch:
            yield {key[2:]: value for key, value in row.items()}
        if len(batch) < batch_size:
            return
        last = batch[-1]["v_sequence"]


def audit_chain_verify(*, batch_size: int = DEFAULT_BATCH_SIZE) -> ChainReport:
    """Walk the sealed chain in batches (constant memory), report the first break and how many events wait."""
    report = check_chain(_chain_rows(batch_size))
    return ChainReport(
        count=report.count,
        head_sequence=report.head_sequence,
        head_hash=report.head_hash,
        broken=report.broken,
        unsealed=unsealed_events().count(),
    )
