"""Celery tasks of the audit trail: the sealer (kicked after commit, and by beat as a net)."""

from __future__ import annotations

from celery import shared_task

from .sealer import audit_seal_pending


@shared_task(name="audit.seal", ignore_result=True, acks_late=True)
def seal() -> int:
    """Seal every committed event still waiting; a second run at the same time waits for the chain lock."""
    return audit_seal_pending()
