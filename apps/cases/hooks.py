"""The notification hook of the case workflow: one call per event, delivered once the change commits.

Cases know nothing of who is told what: the reminders app registers a receiver at start-up and turns each event
into notifications. A receiver runs after commit (never for a rolled-back change), and a failing receiver is logged
and never breaks the step that announced the event.

Events (`CaseEvent`), with the keyword context each carries:
- `opened`: a case was opened (`by`: user id or None).
- `step_waiting`: the case waits for an approval step that nobody has decided yet, after an earlier step was
  recorded or once the case first meets its policy (`order`: the step's order).
- `decided`: the case was approved, rejected or withdrawn (`status`, `by`).
- `exception_requested`: an exception waits for a second HR (`exception_id`, `by`).
- `exception_decided`: HR granted or refused it (`exception_id`, `status`, `by`).
- `attested` / `attestation_withdrawn`: a role vouched for the case, or took it back (`role`, `by`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


class CaseEvent(StrEnum):
    OPENED = "opened"
    STEP_WAITING = "step_waiting"
    DECIDED = "decided"
    EXCEPTION_REQUESTED = "exception_requested"
    EXCEPTION_DECIDED = "exception_decided"
    ATTESTED = "attested"
    ATTESTATION_WITHDRAWN = "attestation_withdrawn"


Receiver = Callable[..., None]
_receivers: list[Receiver] = []


def register(receiver: Receiver) -> Receiver:
    """Decorator: call `receiver(case_id, event, **context)` after each case event commits."""
    _receivers.append(receiver)
    return receiver


def case_event(*, case_id: int, event: CaseEvent, **context: Any) -> None:
    """Announce a case event; receivers hear it once the surrounding transaction commits."""

    def deliver() -> None:
        logger.debug("case %s: %s %s", case_id, event, context)
        for receiver in list(_receivers):
            try:
                receiver(case_id, event, **context)
            except Exception:  # a failing notification must never break the step that announced it
                logger.exception("case hook %r failed for case %s (%s)", receiver, case_id, event)

    transaction.on_commit(deliver)
