"""Notifications of the evidence workflow: the event is queued in the transaction of the change (registered once,
at start-up); the worker writes the reminders."""

from __future__ import annotations

from apps.evidence import hooks

from .services import evidence_event_queue


@hooks.register_in_transaction(savepoint=False)
def notify_about_evidence(evidence_id: int, event: str) -> None:
    """Reviewers hear of a submission, owners of a review: the queued event commits with the change."""
    evidence_event_queue(evidence_id=evidence_id, event=event)
