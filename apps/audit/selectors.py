"""Reads of the audit trail."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db import models
from django.utils import timezone

from .chain import EVENT_HASHED_FIELDS, ChainReport, check_chain
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


def _chain_rows(batch_size: int) -> Iterator[dict[str, Any]]:
    # Each seal with its event's hashed fields, keyed as compute_hash expects them.
    seals = AuditSeal.objects.order_by("sequence").values(
        "sequence", "prev_hash", "hash", *(f"event__{name}" for name in EVENT_HASHED_FIELDS)
    )
    last = 0
    while True:
        batch = list(seals.filter(sequence__gt=last)[:batch_size])
        for row in batch:
            yield {key.removeprefix("event__"): value for key, value in row.items()}
        if len(batch) < batch_size:
            return
        last = batch[-1]["sequence"]


def audit_chain_verify(*, batch_size: int = DEFAULT_BATCH_SIZE) -> ChainReport:
    """Walk the sealed chain in batches (constant memory), report the first break and how many events wait."""
    return dataclasses.replace(check_chain(_chain_rows(batch_size)), unsealed=unsealed_events().count())
