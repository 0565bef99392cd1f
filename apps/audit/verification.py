"""Verify the sealed chain and compare it with a signed checkpoint written outside the database.

The chain alone cannot show that its newest events were removed, the tables emptied, or that a writer who knows the
scheme appended events; the checkpoint can. `verify_trail()` names what is wrong, in the words `verify_audit` prints:
"missing N", "rewritten or forged from N", "truncated after N (the checkpoint says the head was M)", "key mismatch",
"no checkpoint yet".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .chain import MISSING, ChainReport, chain_key, check_chain
from .checkpoints import (
    Checkpoint,
    CheckpointError,
    chain_rows,
    checkpoint_storage,
    latest_checkpoint_name,
    parse_checkpoint,
    read_checkpoint,
)
from .constants import DEFAULT_BATCH_SIZE
from .models import AuditSeal
from .sealer import unsealed_events


@dataclass(slots=True)
class Verification:
    """What verify_audit found: the chain's state, the checkpoint it was compared with, and every problem."""

    report: ChainReport
    checkpoint: Checkpoint | None = None
    checkpoint_name: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _load(data: bytes | None, name: str, key: bytes, problems: list[str]) -> Checkpoint | None:
    if data is None:
        return None
    try:
        return parse_checkpoint(data, key=key)
    except CheckpointError as exc:
        problems.append(f"checkpoint {name}: {exc}")
        return None


def verify_trail(
    *,
    checkpoint_data: bytes | None = None,
    checkpoint_name: str = "",
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], object] | None = None,
) -> Verification:
    """Walk the whole sealed chain and compare it with a checkpoint: the one given (`checkpoint_data`, e.g. a file
    an operator kept), else the latest in AUDIT_CHECKPOINT_STORAGE.

    The chain is read `batch_size` events per query, in bounded memory; `progress(last_sequence)` is called after
    each batch that verified."""
    key = chain_key()
    problems: list[str] = []
    if checkpoint_data is None:
        storage = checkpoint_storage()
        checkpoint_name = latest_checkpoint_name(storage) or ""
        if checkpoint_name:
            checkpoint_data = read_checkpoint(checkpoint_name, storage=storage)
    checkpoint = _load(checkpoint_data, checkpoint_name, key, problems)
    unkeyed_until = checkpoint.unkeyed_until if checkpoint is not None else None
    rows = chain_rows(batch_size=batch_size, progress=progress)
    report = check_chain(rows, key=key, unkeyed_until=unkeyed_until)
    report = ChainReport(
        report.count,
        report.head_sequence,
        report.head_hash,
        report.broken,
        unsealed=unsealed_events().count(),
        last_unkeyed=report.last_unkeyed,
    )
    if report.broken is not None:
        where = report.broken.sequence
        name = f"missing {where}" if report.broken.kind == MISSING else f"rewritten or forged from {where}"
        problems.append(f"{name}: {report.broken.reason}")
    if checkpoint is not None:
        problems.extend(_compare(report, checkpoint))
    elif checkpoint_data is None and report.head_sequence > 0:
        problems.append(
            "no checkpoint yet: nothing outside the database vouches for the head, so removed newest events would "
            "go unnoticed (beat writes one every AUDIT_CHECKPOINT_EVERY seconds; `manage.py seal_audit` writes one now)"
        )
    return Verification(report, checkpoint, checkpoint_name, problems)


def _compare(report: ChainReport, checkpoint: Checkpoint) -> list[str]:
    """What the chain and a (verified) checkpoint disagree on."""
    head = checkpoint.head_sequence
    if report.broken is not None and report.broken.sequence <= head:
        return []  # the break, inside what the checkpoint vouches for, is the finding
    if report.head_sequence < head:
        return [f"truncated after {report.head_sequence} (the checkpoint says the head was {head})"]
    if head == 0:
        return []
    stored = AuditSeal.objects.filter(sequence=head).values_list("hash", flat=True).first()
    if stored != checkpoint.head_hash:
        return [
            f"rewritten or forged from {head} or before: sequence {head}'s hash differs from the checkpoint's "
            "(the chain up to it was recomputed)"
        ]
    return []
