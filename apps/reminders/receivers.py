"""Notifications of the evidence and case workflows (registered once, at start-up).

Evidence events are queued in the transaction of the change; the worker writes the reminders. Case events arrive
after the change committed (`apps.cases.hooks`); their reminders are written at once, in a transaction of their own,
and published after it commits.
"""

from __future__ import annotations

from typing import Any

from apps.cases import hooks as case_hooks
from apps.evidence import hooks

from .notify import evidence_event_queue, reminders_for_case_event

NOTIFYING_CASE_EVENTS = frozenset(
    {case_hooks.CaseEvent.STEP_WAITING, case_hooks.CaseEvent.DECIDED, case_hooks.CaseEvent.EXCEPTION_REQUESTED}
)


@hooks.register_in_transaction(savepoint=False)
def notify_about_evidence(evidence_id: int, event: str) -> None:
    """Reviewers hear of a submission, owners of a review: the queued event commits with the change."""
    evidence_event_queue(evidence_id=evidence_id, event=event)


@case_hooks.register
def notify_about_case(case_id: int, event: str, **context: Any) -> None:
    """Approvers hear their step waits, owners and nominators of a decision, a second HR of an exception request."""
    if event not in NOTIFYING_CASE_EVENTS:
        return  # e.g. each of a cycle's thousands of openings: no transaction, no query
    reminders_for_case_event(case_id=case_id, event=event, context=context)
