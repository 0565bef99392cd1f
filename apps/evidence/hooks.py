"""The notification hook of the evidence workflow: one call per event, in two phases.

- In-transaction receivers run at once, inside the transaction of the change, each in a savepoint: what they write
  (the reminders app's outbox rows) commits or rolls back with the change. A failing receiver is logged and its
  savepoint rolled back; it never breaks the change.
- After-commit receivers run once the change commits (never for a rolled-back change), e.g. refreshing stored
  compliance.

Receivers are registered at import time by the apps that use them, never connected at runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

from .constants import EvidenceStatus

logger = logging.getLogger(__name__)

Receiver = Callable[[int, str], None]
_receivers: list[Receiver] = []
_in_transaction_receivers: list[Receiver] = []

EVENTS = frozenset({"submitted", *(s.value for s in EvidenceStatus)})


def register(receiver: Receiver) -> Receiver:
    """Decorator: call `receiver(evidence_id, event)` after each evidence event commits."""
    _receivers.append(receiver)
    return receiver


def register_in_transaction(receiver: Receiver) -> Receiver:
    """Decorator: call `receiver(evidence_id, event)` inside the transaction of each evidence event."""
    _in_transaction_receivers.append(receiver)
    return receiver


def evidence_event(*, evidence_id: int, event: str) -> None:
    """Announce an evidence event: in-transaction receivers now, the others once the transaction commits."""
    for receiver in list(_in_transaction_receivers):
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
