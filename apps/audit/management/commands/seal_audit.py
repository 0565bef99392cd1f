"""Seal the committed audit events that wait for the sealer now (beat does it every few seconds)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.sealer import SEAL_BATCH_SIZE, audit_seal_pending


class Command(BaseCommand):
    help = "Give every committed, unsealed audit event its chain position and hash, oldest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=SEAL_BATCH_SIZE, help="Events sealed per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        sealed = audit_seal_pending(batch_size=options["batch_size"])
        self.stdout.write(self.style.SUCCESS(f"Sealed {sealed} audit events."))
