"""The notification hook of the evidence workflow: one call per event, after the change commits.

Reminders (issue "Reminders and escalations") subscribe here to e-mail reviewers and owners; until then events are
only logged. Receivers are registered at import time by the apps that send mail, never connected at runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

from .constants import EvidenceStatus

logger = logging.getLogger(__name__)

Receiver = Callable[[int, str], None]
_receivers: list[Receiver] = []

EVENTS = frozenset({"submitted", *(s.value for s in EvidenceStatus)})


def register(receiver: Receiver) -> Receiver:
    """Decorator: call `receiver(evidence_id, event)` after each evidence event commits."""
    _receivers.append(receiver)
    return receiver


def evidence_event(*, evidence_id: int, event: str) -> None:
    """Announce an evidence event once the surrounding transaction commits (never for a rolled-back change)."""

    def deliver() -> None:
        logger.info("evidence %s: %s", evidence_id, event)
        for receiver in list(_receivers):
            try:
                receiver(evidence_id, event)
            except Exception:  # a failing notification must never undo or break the submission
                logger.exception("evidence hook %r failed for evidence %s (%s)", receiver, evidence_id, event)

    transaction.on_commit(deliver)
