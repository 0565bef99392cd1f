"""Seal the committed audit events that wait for the sealer now, and write a checkpoint (beat does both regularly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.checkpoints import ChainDoesNotExtendCheckpoint, CheckpointError, write_checkpoint
from apps.audit.sealer import SEAL_BATCH_SIZE, audit_seal_pending


class Command(BaseCommand):
    help = (
        "Give every committed, unsealed audit event its chain position and keyed hash, oldest first, then write a "
        "signed checkpoint of the head to AUDIT_CHECKPOINT_STORAGE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=SEAL_BATCH_SIZE, help="Events sealed per transaction.")
        parser.add_argument("--no-checkpoint", action="store_true", help="Seal only; write no checkpoint.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        sealed = audit_seal_pending(batch_size=options["batch_size"])
        self.stdout.write(self.style.SUCCESS(f"Sealed {sealed} audit events."))
        if options["no_checkpoint"]:
            return
        try:
            checkpoint = write_checkpoint(reason="manual", force=True)
        except (ChainDoesNotExtendCheckpoint, CheckpointError) as exc:
            raise CommandError(f"No checkpoint written: {exc}. Run `manage.py verify_audit`.") from exc
        if checkpoint is not None:  # always, as forced
            self.stdout.write(f"Checkpoint written: head {checkpoint.head_sequence}:{checkpoint.head_hash}")
