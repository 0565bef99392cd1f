"""Walk the audit chain, compare it with the latest signed checkpoint, and say whether it is intact."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.audit.constants import DEFAULT_BATCH_SIZE
from apps.audit.models import AuditSeal
from apps.audit.verification import verify_trail


class Command(BaseCommand):
    help = (
        "Recompute every sealed audit event's keyed hash in sequence order, in bounded memory, and compare the chain "
        "with the latest signed checkpoint (or --checkpoint FILE). Prints 'OK: ...' and exits 0, or names each problem "
        "(missing N, rewritten or forged from N, truncated after N, key mismatch, no checkpoint yet) and exits 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Events read per query.")
        parser.add_argument(
            "--progress",
            type=int,
            default=0,
            metavar="N",
            help="Print progress to standard error about every N events (rounded up to whole batches); 0: none.",
        )
        parser.add_argument(
            "--checkpoint",
            metavar="FILE",
            help="Compare with this checkpoint file (e.g. one downloaded from the admin and kept elsewhere) instead "
            "of the latest in AUDIT_CHECKPOINT_STORAGE.",
        )
        parser.add_argument(
            "--expect-head",
            metavar="SEQUENCE:HASH",
            help="A head recorded earlier (printed by a previous run); fails if that event is gone or differs.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["progress"] < 0:
            raise CommandError("--progress must be 0 (none) or a number of events.")
        expected = _parse_head(options["expect_head"]) if options["expect_head"] else None
        data, name = None, ""
        if options["checkpoint"]:
            name = options["checkpoint"]
            try:
                data = Path(name).read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read the checkpoint {name}: {exc.strerror}.") from exc
        progress = _Progress(self.stderr.write, options["progress"]) if options["progress"] else None
        result = verify_trail(
            checkpoint_data=data, checkpoint_name=name, batch_size=options["batch_size"], progress=progress
        )
        problems = list(result.problems)
        if expected is not None:
            problems.extend(_check_expected_head(expected, result.report.count))
        report = result.report
        if problems:
            raise CommandError(
                "BROKEN: "
                + "\nBROKEN: ".join(problems)
                + f"\n{report.count} events verify in sequence before the first break; "
                f"{report.unsealed} await the sealer."
            )
        against = (
            f"matches the checkpoint of {result.checkpoint.written_at} (head {result.checkpoint.head_sequence})"
            if result.checkpoint is not None
            else "no checkpoint yet (nothing sealed)"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {report.count} events sealed, {report.unsealed} awaiting the sealer, chain intact, {against}"
            )
        )
        self.stdout.write(f"head: {report.head_sequence}:{report.head_hash}")


class _Progress:
    """Prints "verified N events (R a second)" to standard error each time another `every` events verified."""

    def __init__(self, write: Callable[[str], object], every: int) -> None:
        self.write, self.every = write, every
        self.started, self.next = time.monotonic(), every

    def __call__(self, last_sequence: int) -> None:
        if last_sequence < self.next:
            return
        elapsed = max(time.monotonic() - self.started, 1e-9)
        self.write(f"verified {last_sequence:,} events ({last_sequence / elapsed:,.0f} a second)")
        self.next = (last_sequence // self.every + 1) * self.every


def _parse_head(value: str) -> tuple[int, str]:
    sequence, _, head_hash = value.partition(":")
    if not sequence.isdigit() or len(head_hash) != 64:
        raise CommandError("--expect-head must look like 1234:<64 hex characters>, as printed after 'head:'.")
    return int(sequence), head_hash.lower()


def _check_expected_head(expected: tuple[int, str], count: int) -> list[str]:
    sequence, head_hash = expected
    stored = AuditSeal.objects.filter(sequence=sequence).values_list("hash", flat=True).first()
    if stored is None:
        return [f"truncated after {count} (the recorded head was {sequence})"]
    if stored != head_hash:
        return [f"rewritten or forged from {sequence} or before: its hash differs from the recorded head"]
    return []
