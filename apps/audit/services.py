"""Writes to the audit trail: domain events, sealing and audited exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import models, transaction

from .capture import draft_event, write_events
from .capture import object_repr as repr_of
from .constants import AuditAction
from .exports import iter_csv
from .models import AuditEvent
from .personal import protect_event, protected_context
from .registry import is_known_action, label_of, personal_fields


def audit_record(
    *,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
    changes: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    personal_context: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write a domain event, attributed to the current actor and request, in the caller's transaction.

    The event commits with the caller's change (or not at all); the sealer gives it its chain position after.
    `personal_context` joins `context` encrypted with the key of `obj`'s person (free text about them, such as a
    review comment or a decision note), so erasing the person leaves none of it readable.
    """
    if not is_known_action(action):
        raise ValueError(f"Unknown audit action {action!r}; register it with apps.audit.registry.register_actions().")
    if obj is not None:
        object_type = object_type or label_of(obj)
        object_id = object_id if object_id is not None else str(obj.pk)
        object_repr = object_repr if object_repr is not None else repr_of(obj)
    if personal_context:
        registrations = personal_fields(label_of(obj)) if obj is not None else None
        extra = protected_context(obj, registrations, personal_context) if obj is not None and registrations else {}
        if not extra:
            raise ValueError(f"personal_context needs an object with a person ({action!r} has none registered).")
        context = {**(context or {}), **extra}
    event = draft_event(
        action=action,
        object_type=object_type or "",
        object_id=object_id or "",
        object_repr=object_repr or "",
        changes=changes,
        context=context,
    )
    if obj is not None and object_repr == repr_of(obj):
        personal = personal_fields(object_type or "")
        if personal is not None:  # a domain event about a person: their name is stored encrypted, like a change
            protect_event(event, obj, personal)
    write_events([event])
    return event


@transaction.atomic
def audit_export_csv(
    *, events: models.QuerySet[AuditEvent], filters: dict[str, Any], destination: str
) -> tuple[int, Iterator[str]]:
    """Record who exports which events (EXPORT_MADE), then return the row count and the CSV lines to stream."""
    head = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    # The export covers the trail as it stands now; its own event and later ones are not in it.
    events = events.filter(id__lte=head)
    rows = events.count()
    audit_record(
        action=AuditAction.EXPORT_MADE,
        object_type=AuditEvent._meta.label_lower,
        object_repr=f"{rows} audit events as CSV",
        context={"format": "csv", "filters": filters, "rows": rows, "up_to_event": head, "to": destination},
    )
    return rows, iter_csv(events)
