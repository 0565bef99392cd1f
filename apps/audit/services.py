"""Writes to the audit trail: domain events and audited exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import models, transaction

from .capture import draft_event
from .capture import object_repr as repr_of
from .constants import AuditAction
from .exports import iter_csv
from .models import AuditEvent
from .queue import append_events, queue_events
from .registry import label_of


def audit_record(
    *,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
    changes: dict | None = None,
    context: dict | None = None,
    defer: bool = False,
) -> AuditEvent:
    """Append a domain event, attributed to the current actor and request, in the caller's transaction.

    The event is numbered and chained at once (its `sequence` and `hash` are set on return). With `defer` it is
    queued instead, behind the transaction's captured changes, and written with them just before COMMIT: the
    chain's lock is then held only for that last step (hot paths that do not need the number, e.g. a
    submission). Outside a transaction `defer` changes nothing.
    """
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}; add it to apps.audit.constants.AuditAction.")
    if obj is not None:
        object_type = object_type or label_of(obj)
        object_id = object_id if object_id is not None else str(obj.pk)
        object_repr = object_repr if object_repr is not None else repr_of(obj)
    event = draft_event(
        action=action,
        object_type=object_type or "",
        object_id=object_id or "",
        object_repr=object_repr or "",
        changes=changes,
        context=context,
    )
    if defer:
        queue_events([event])
    else:
        append_events([event], safe=True)
    return event


@transaction.atomic
def audit_export_csv(
    *, events: models.QuerySet[AuditEvent], filters: dict[str, Any], destination: str
) -> tuple[int, Iterator[str]]:
    """Record who exports which events (EXPORT_MADE), then return the row count and the CSV lines to stream."""
    head = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    # The export covers the trail as it stands now; its own event and later ones are not in it.
    events = events.filter(sequence__lte=head)
    rows = events.count()
    audit_record(
        action=AuditAction.EXPORT_MADE,
        object_type=AuditEvent._meta.label_lower,
        object_repr=f"{rows} audit events as CSV",
        context={"format": "csv", "filters": filters, "rows": rows, "up_to_sequence": head, "to": destination},
    )
    return rows, iter_csv(events)
