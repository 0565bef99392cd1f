"""Notifications of the evidence workflow: written in the transaction of the change (registered once, at start-up)."""

from __future__ import annotations

from apps.evidence import hooks

from .services import reminders_for_evidence_event


@hooks.register_in_transaction
def notify_about_evidence(evidence_id: int, event: str) -> None:
    """Reviewers hear of a submission, owners of a review: the outbox row commits with the change."""
    reminders_for_evidence_event(evidence_id=evidence_id, event=event)
