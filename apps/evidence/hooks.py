"""The notification hook of the evidence workflow: one call per event, in two phases.

- In-transaction receivers run at once, inside the transaction of the change: what they write (the reminders app
  queues the event for its worker) commits or rolls back with the change. Each runs in a savepoint, so a failing
  receiver is logged and its savepoint rolled back and never breaks the change; a receiver registered with
  `savepoint=False` does one plain write that fails only when the transaction itself fails, and saves the
  savepoint's two round trips.
- After-commit receivers run once the change commits (never for a rolled-back change), e.g. refreshing stored
  compliance.

Receivers are registered at import time by the apps that use them, never connected at runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import overload

from django.db import transaction

from .constants import EvidenceStatus

logger = logging.getLogger(__name__)

Receiver = Callable[[int, str], None]
_receivers: list[Receiver] = []
_in_transaction_receivers: list[tuple[Receiver, bool, frozenset[str] | None]] = []

EVENTS = frozenset({"submitted", *(s.value for s in EvidenceStatus)})


def register(receiver: Receiver) -> Receiver:
    """Decorator: call `receiver(evidence_id, event)` after each evidence event commits."""
    _receivers.append(receiver)
    return receiver


@overload
def register_in_transaction(
    receiver: Receiver, *, savepoint: bool = True, events: frozenset[str] | None = None
) -> Receiver: ...
@overload
def register_in_transaction(
    receiver: None = None, *, savepoint: bool = True, events: frozenset[str] | None = None
) -> Callable[[Receiver], Receiver]: ...
def register_in_transaction(
    receiver: Receiver | None = None, *, savepoint: bool = True, events: frozenset[str] | None = None
) -> object:
    """Decorator: call `receiver(evidence_id, event)` inside the transaction of each evidence event.

    `@register_in_transaction(savepoint=False)` runs it without a savepoint of its own: its failure then fails the
    change, so only for a single write that cannot fail on its own (no constraint but its primary key).
    `events=frozenset({...})` calls it for those events only (the others pay no savepoint for it).
    """

    def add(function: Receiver) -> Receiver:
        _in_transaction_receivers.append((function, savepoint, events))
        return function

    return add if receiver is None else add(receiver)


def evidence_event(*, evidence_id: int, event: str) -> None:
    """Announce an evidence event: in-transaction receivers now, the others once the transaction commits."""
    for receiver, savepoint, events in list(_in_transaction_receivers):
        if events is not None and event not in events:
            continue
        if not savepoint:
            receiver(evidence_id, event)
            continue
        try:
            with transaction.atomic():
                receiver(evidence_id, event)
        except Exception:  # a failing notification must never undo or break the change itself
            logger.exception("evidence hook %r failed for evidence %s (%s)", receiver, evidence_id, event)

    def deliver() -> None:
        logger.info("evidence %s: %s", evidence_id, event)
        for receiver in list(_receivers):
            try:
                receiver(evidence_id, event)
            except Exception:  # a failing notification must never undo or break the submission
                logger.exception("evidence hook %r failed for evidence %s (%s)", receiver, evidence_id, event)

    transaction.on_commit(deliver)
