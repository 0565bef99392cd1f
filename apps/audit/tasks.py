"""Celery tasks of the audit trail: the sealer (kicked after commit, and by beat as a net) and the checkpoints."""

from __future__ import annotations

import logging

from celery import shared_task

from .checkpoints import ChainDoesNotExtendCheckpoint, CheckpointError, write_checkpoint
from .sealer import audit_seal_pending

logger = logging.getLogger(__name__)


@shared_task(name="audit.seal", ignore_result=True, acks_late=True)
def seal() -> int:
    """Seal every committed event still waiting; a second run at the same time waits for the chain lock."""
    return audit_seal_pending()


@shared_task(name="audit.checkpoint", ignore_result=True, acks_late=True)
def checkpoint(reason: str = "periodic") -> int | None:
    """Seal what waits, then write a signed checkpoint of the head outside the database (if the head moved, or
    always after an export); return the head written. A chain that no longer extends the latest checkpoint gets
    none: the error is logged, and /healthz shows the checkpoint growing old."""
    audit_seal_pending()
    try:
        written = write_checkpoint(reason=reason, force=reason != "periodic")
    except (ChainDoesNotExtendCheckpoint, CheckpointError) as exc:
        logger.error("Audit checkpoint not written: %s. Run `manage.py verify_audit`.", exc)
        return None
    return None if written is None else written.head_sequence
