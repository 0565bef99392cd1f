"""Walk the audit chain and say whether it is intact."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.constants import DEFAULT_BATCH_SIZE
from apps.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Recompute every sealed audit event's hash in sequence order. Prints 'OK: N events sealed, M awaiting the "
        "sealer, chain intact' and exits 0, or names the first broken sequence number and why, and exits 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Events read per query.")
        parser.add_argument(
            "--expect-head",
            metavar="SEQUENCE:HASH",
            help="A head recorded earlier (printed by a previous run); fails if that event is gone or differs, "
            "which catches removal of the newest events.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        expected = _parse_head(options["expect_head"]) if options["expect_head"] else None
        report = audit_chain_verify(batch_size=options["batch_size"])
        if report.broken is not None:
            raise CommandError(
                f"BROKEN at sequence {report.broken.sequence}: {report.broken.reason}. "
                f"{report.count} events before it are intact."
            )
        if expected is not None:
            _check_expected_head(expected, report.count)
        self.stdout.write(
            self.style.SUCCESS(f"OK: {report.count} events sealed, {report.unsealed} awaiting the sealer, chain intact")
        )
        self.stdout.write(f"head: {report.head_sequence}:{report.head_hash}")


def _parse_head(value: str) -> tuple[int, str]:
    sequence, _, head_hash = value.partition(":")
    if not sequence.isdigit() or len(head_hash) != 64:
        raise CommandError("--expect-head must look like 1234:<64 hex characters>, as printed after 'head:'.")
    return int(sequence), head_hash.lower()


def _check_expected_head(expected: tuple[int, str], count: int) -> None:
    from apps.audit.models import AuditSeal

    sequence, head_hash = expected
    stored = AuditSeal.objects.filter(sequence=sequence).values_list("hash", flat=True).first()
    if stored is None:
        raise CommandError(f"BROKEN at sequence {sequence}: missing sequence (the chain ends at {count}).")
    if stored != head_hash:
        raise CommandError(f"BROKEN at sequence {sequence}: hash differs from the recorded head.")
