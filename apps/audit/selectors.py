"""Reads of the audit trail."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db import models
from django.utils import timezone

from .chain import ChainReport, check_chain
from .checkpoints import chain_rows
from .constants import DEFAULT_BATCH_SIZE
from .models import AuditEvent
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


def audit_chain_verify(*, batch_size: int = DEFAULT_BATCH_SIZE) -> ChainReport:
    """Walk the sealed chain in batches (constant memory), report the first break and how many events wait."""
    rows = chain_rows(batch_size=batch_size)
    return dataclasses.replace(check_chain(rows), unsealed=unsealed_events().count())
