"""Applying retention: remove exactly what the plan lists, in batches, each removal audited without its content."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.audit.services import audit_record
from apps.cases.models import Case, CaseEvidence
from apps.evidence.models import Attachment
from apps.reminders.models import Reminder

from ..constants import RETENTION_BATCH_SIZE, ErasureCause, PrivacyAuditAction, RetentionKind
from ..holds import case_on_hold
from ..models import CandidateErasure
from .candidates import candidate_erase, delete_attachments
from .plan import DECIDED, Holds, Removal, plan_retention


@dataclass
class RetentionResult:
    """What a run removed (or, dry, would remove): counts per kind, the items, what a hold or a disabled rule kept."""

    dry_run: bool
    removed: list[Removal] = field(default_factory=list)
    held: list[Removal] = field(default_factory=list)
    disabled: list[Removal] = field(default_factory=list)
    # Listed when the run started but held (or gone) by the time its batch ran.
    skipped: list[Removal] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Removed items per kind (every kind listed, 0 included)."""
        found = Counter(item.kind for item in self.removed)
        return {kind: found.get(kind, 0) for kind in RetentionKind.values}

    @property
    def total(self) -> int:
        return len(self.removed)

    def summary(self) -> str:
        """One sentence: what was (or would be) removed, per kind."""
        verb = "Would remove" if self.dry_run else "Removed"
        parts = [f"{n} {RetentionKind(kind).label.lower()}" for kind, n in self.counts.items() if n]
        text = f"{verb} {self.total} item{'s' if self.total != 1 else ''}" + (f": {'; '.join(parts)}" if parts else "")
        if self.held:
            text += f". Kept by legal hold: {len(self.held)}"
        if self.skipped:
            text += f". Skipped (held or gone since the plan): {len(self.skipped)}"
        return text + "."


def _audit(item: Removal) -> None:
    """The trail's record of one removal: kind, object type and id, rule; never the removed content."""
    audit_record(
        action=PrivacyAuditAction.RETENTION_REMOVED,
        object_type=item.object_type,
        object_id=str(item.object_id),
        object_repr=f"{item.object_type} #{item.object_id}",
        context={"kind": item.kind, "rule": item.rule_id, "due_on": item.due_on.isoformat()},
    )


# ------------------------------------------------------------------------------------------------ one kind each
# Each remover takes the batch's items, locks their rows, re-checks the holds, removes, and returns what it removed.


def _erase_candidates(items: list[Removal], holds: Holds, by: Any) -> list[Removal]:
    cases = Case.objects.select_for_update().in_bulk([item.object_id for item in items])
    erased = set(CandidateErasure.objects.filter(case_id__in=list(cases)).values_list("case_id", flat=True))
    done = []
    for item in items:
        case = cases.get(item.object_id)
        if case is None or case.pk in erased or holds.first(cases=[case.pk]) is not None:
            continue
        candidate_erase(case=case, cause=ErasureCause(item.kind), by=by)
        done.append(item)
    return done


def _delete_leaver_attachments(items: list[Removal], holds: Holds, by: Any) -> list[Removal]:
    rows = Attachment.objects.select_for_update().in_bulk([item.object_id for item in items])
    owners = dict(Attachment.objects.filter(pk__in=list(rows)).values_list("pk", "evidence__owner_id"))
    held_evidence = (
        set(
            CaseEvidence.objects.filter(
                case_id__in=list(holds.by_case), evidence_id__in={a.evidence_id for a in rows.values()}
            ).values_list("evidence_id", flat=True)
        )
        if holds.by_case
        else set()
    )
    done = [
        item
        for item in items
        if item.object_id in rows
        and rows[item.object_id].evidence_id not in held_evidence
        and holds.first(employees=[owners.get(item.object_id)]) is None
    ]
    delete_attachments([rows[item.object_id] for item in done])
    return done


def _delete_reminders(items: list[Removal], holds: Holds, by: Any) -> list[Removal]:
    rows = Reminder.objects.select_for_update().in_bulk([item.object_id for item in items])
    related = {
        pk: (case_id, [subject_id, recipient_id, owner_id])
        for pk, case_id, subject_id, recipient_id, owner_id in Reminder.objects.filter(pk__in=list(rows)).values_list(
            "pk", "case_id", "case__subject_employee_id", "recipient_employee_id", "evidence__owner_id"
        )
    }
    done = []
    for item in items:
        if item.object_id not in rows:
            continue
        case_id, people = related[item.object_id]
        if holds.first(cases=[case_id], employees=people) is not None:
            continue
        rows[item.object_id].delete()
        done.append(item)
    return done


def delete_case(case: Case) -> None:
    """Delete a decided case with its exceptions first (they protect it), then the case: links, attestations and step
    records go with it, reminders keep their rows with the case emptied, released holds forget it."""
    for exception in case.exceptions.order_by("pk"):
        exception.delete()
    case.delete()


def _delete_cases(items: list[Removal], holds: Holds, by: Any) -> list[Removal]:
    cases = Case.objects.select_for_update().in_bulk([item.object_id for item in items])
    done = []
    for item in items:
        case = cases.get(item.object_id)
        if case is None or case.status not in DECIDED:
            continue
        if holds.first(cases=[case.pk], employees=[case.subject_employee_id]) is not None:
            continue
        delete_case(case)
        done.append(item)
    return done


REMOVERS: dict[str, Callable[[list[Removal], Holds, Any], list[Removal]]] = {
    RetentionKind.REJECTED_CANDIDATES: _erase_candidates,
    RetentionKind.HIRED_CANDIDATES: _erase_candidates,
    RetentionKind.LEAVER_ATTACHMENTS: _delete_leaver_attachments,
    RetentionKind.REMINDER_LOGS: _delete_reminders,
    RetentionKind.DECIDED_CASES: _delete_cases,
}


def _batches(items: list[Removal], size: int) -> list[list[Removal]]:
    """Runs of at most `size` items of one kind, in plan order."""
    batches: list[list[Removal]] = []
    for item in items:
        if batches and batches[-1][0].kind == item.kind and len(batches[-1]) < size:
            batches[-1].append(item)
        else:
            batches.append([item])
    return batches


def apply_retention(
    today: dt.date, *, dry_run: bool, by: Any = None, batch_size: int = RETENTION_BATCH_SIZE
) -> RetentionResult:
    """Remove what `plan_retention(today)` lists as removable (dry: only list it); one transaction per batch.

    Each removal writes `retention_removed` in its batch's transaction; the run ends with one `retention_run` event
    with the counts. An item a hold placed since the plan now keeps is skipped, never removed.
    """
    plan = plan_retention(today)
    result = RetentionResult(dry_run=dry_run)
    for item in plan:
        if item.held_by is not None:
            result.held.append(item)
        elif not item.rule_enabled:
            result.disabled.append(item)
    removable = [item for item in plan if item.removable]
    if dry_run:
        result.removed = removable
        return result
    for batch in _batches(removable, batch_size):
        with transaction.atomic():
            done = REMOVERS[batch[0].kind](batch, Holds.load(), by)
            for item in done:
                _audit(item)
        result.removed.extend(done)
        kept = {item.key for item in done}
        result.skipped.extend(item for item in batch if item.key not in kept)
    with transaction.atomic():
        audit_record(
            action=PrivacyAuditAction.RETENTION_RUN,
            object_type="privacy.retentionrule",
            object_repr=f"Retention run for {today:%Y-%m-%d}",
            context={
                "date": today.isoformat(),
                "removed": result.counts,
                "held": len(result.held),
                "skipped": len(result.skipped),
            },
        )
    return result


# ------------------------------------------------------------------------------------------------ by hand


@transaction.atomic
def candidate_erase_now(*, case: Case, by: Any) -> CandidateErasure:
    """Erase a decided hiring case's candidate now, on HR's request (before the retention period ends)."""
    if by is None or not by.has_perm("privacy.erase_person"):
        raise PermissionDenied("You do not have permission to erase a candidate's personal data.")
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.subject_employee_id is not None or case.subject_unit_id is not None:
        raise ValidationError(f"Case #{case.pk} is not a hiring case about a candidate.")
    if case.status not in DECIDED:
        raise ValidationError(f"Case #{case.pk} is still open: decide or withdraw it before erasing the candidate.")
    if CandidateErasure.objects.filter(case=case).exists():
        raise ValidationError(f"The candidate of case #{case.pk} was erased already.")
    if case_on_hold(case):
        raise ValidationError(f"Case #{case.pk} is under a legal hold: nothing may be erased until it is released.")
    erasure = candidate_erase(case=case, cause=ErasureCause.BY_HAND, by=by)
    audit_record(
        action=PrivacyAuditAction.CANDIDATE_ERASED,
        object_type="cases.case",
        object_id=str(case.pk),
        object_repr=f"Case #{case.pk}",
        context={"cause": ErasureCause.BY_HAND.value},
    )
    return erasure
