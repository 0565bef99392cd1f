"""Reads of the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db import models
from django.utils import timezone

from .chain import HASHED_FIELDS, ChainReport, check_chain
from .constants import DEFAULT_BATCH_SIZE
from .models import AuditEvent
from .registry import label_of


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_event_list(*, since: dt.date | None = None, until: dt.date | None = None) -> models.QuerySet[AuditEvent]:
    """Events that occurred from the start of `since` to the end of `until` (both days included)."""
    events = AuditEvent.objects.order_by("sequence")
    if since is not None:
        events = events.filter(occurred_at__gte=_start_of(since))
    if until is not None:
        events = events.filter(occurred_at__lt=_start_of(until + dt.timedelta(days=1)))
    return events


def audit_event_list_for(obj: models.Model) -> models.QuerySet[AuditEvent]:
    """The history of one object, oldest first."""
    return AuditEvent.objects.for_object(label_of(obj), str(obj.pk)).order_by("sequence")


def _chain_rows(batch_size: int) -> Iterator[dict[str, Any]]:
    rows = AuditEvent.objects.order_by("sequence").values(*HASHED_FIELDS, "hash")
    last = 0
    while True:
        batch = list(rows.filter(sequence__gt=last)[:batch_size])
        yield from batch
        if len(batch) < batch_size:
            return
        last = batch[-1]["sequence"]


def audit_chain_verify(*, batch_size: int = DEFAULT_BATCH_SIZE) -> ChainReport:
    """Walk the whole chain in batches (constant memory) and report the first break, if any."""
    return check_chain(_chain_rows(batch_size))
