"""Evidence events the inboxes follow: a verified response marks its insight responded in that unit's inbox; a
revoked one (HR rejects a verified item) takes that back unless another verified response remains.

Registered at import time (apps.insights.apps.InsightsConfig.ready) as an in-transaction receiver, so the inbox row
changes in the verification's own transaction and commits or rolls back with it.
"""

from __future__ import annotations

from apps.evidence.constants import EvidenceStatus
from apps.evidence.hooks import register_in_transaction

from .inbox import inbox_mark_responded, inbox_response_withdrawn


@register_in_transaction(events=frozenset({EvidenceStatus.VERIFIED}))
def mark_route_responded(evidence_id: int, event: str) -> None:
    """Only verification answers a customer: drafts, submissions, rejections and requests for changes do not (and
    pay no savepoint for it)."""
    inbox_mark_responded(evidence_id=evidence_id)


@register_in_transaction(events=frozenset({EvidenceStatus.REJECTED}))
def unmark_route_responded(evidence_id: int, event: str) -> None:
    """A rejection of a verified response (HR's revocation); a rejected submission finds its insight not responded and
    changes nothing."""
    inbox_response_withdrawn(evidence_id=evidence_id)
