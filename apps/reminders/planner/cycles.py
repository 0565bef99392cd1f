"""Evidence-due reminders for the short open cases of a cycle, and the cycle's short cases for HR's daily digest.

A pass covers every open case of a cycle, in chunks of REMINDERS_EVALUATE_BATCH cases by id (keyset): per chunk the
cases with their recipients' addresses and time zones, the evidence-due keys already written for them, and the live
checklists (evaluate_refs, six queries) of the cases that could get a new reminder, or of every case of the chunk
when HR's digest needs the cycle's short cases. So a chunk costs eight queries whatever its cases, memory holds one
chunk at a time, and each chunk's reminders are written (services) before the next chunk is read.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from apps.cases.models import Case, Cycle
from apps.cases.selectors import CASE_REF_FIELDS, CaseRef, evaluate_refs
from apps.policies.engine import Evaluation

from ..constants import MAX_LISTED_CASES, ReminderKind
from ..models import Reminder
from ..recipients import Recipient, employee_recipient
from ..timing import evidence_due_offset, local_date, send_time, zone
from .base import ONE_DAY, PlanConfig, Planned, plural, reminder_key, unmet_rows

# Read with CASE_REF_FIELDS: when the case opened, its subject's and its nominator's contact details.
CASE_RECIPIENT_FIELDS = (
    "opened_on", "subject_employee__full_name", "subject_employee__email", "subject_employee__timezone",
    "subject_employee__active", "nominated_by_id", "nominated_by__full_name", "nominated_by__email",
    "nominated_by__timezone", "nominated_by__active", "candidate_name", "subject_unit__name",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _OpenCase:
    ref: CaseRef
    opened_on: dt.date
    subject: str
    recipient: Recipient | None


def _open_case(row: tuple) -> _OpenCase:
    ref = CaseRef(*row[: len(CASE_REF_FIELDS)])
    (opened_on, se_name, se_email, se_tz, se_active, nb_id, nb_name, nb_email, nb_tz, nb_active, candidate, unit) = row[
        len(CASE_REF_FIELDS) :
    ]
    if ref.subject_employee_id:
        # The subject brings their own evidence; for candidates and org units the nominator does.
        recipient = employee_recipient(ref.subject_employee_id, se_name, se_email, se_tz, se_active)
    else:
        recipient = employee_recipient(nb_id, nb_name, nb_email, nb_tz, nb_active)
    return _OpenCase(ref=ref, opened_on=opened_on, subject=se_name or unit or candidate or "", recipient=recipient)


@dataclass(slots=True)
class ShortCases:
    """The short open cases of a cycle, counted chunk by chunk; the first few by name kept (bounded memory)."""

    count: int = 0
    _first: list[tuple[str, int, list[str]]] = field(default_factory=list)

    def add(self, cases: Sequence[_OpenCase], evaluations: dict[int, Evaluation]) -> None:
        for case in cases:
            evaluation = evaluations[case.ref.pk]
            if evaluation.compliant:
                continue
            self.count += 1
            entry = (case.subject, case.ref.pk, [r["label"] for r in unmet_rows(evaluation)])
            self._first.append(entry)
        if len(self._first) > 4 * MAX_LISTED_CASES:
            self._first = heapq.nsmallest(MAX_LISTED_CASES, self._first)

    def summary(self) -> dict[str, Any]:
        """How many cases are short, and the first MAX_LISTED_CASES of them by name with what they miss."""
        listed = heapq.nsmallest(MAX_LISTED_CASES, self._first)
        return {
            "short_count": self.count,
            "cases": [{"id": pk, "subject": subject, "unmet": unmet} for subject, pk, unmet in listed],
        }


def current_offsets(cycle: Cycle, now: dt.datetime) -> tuple[list[int], set[int]]:
    """The cycle's offsets, and those whose occasion can be current somewhere on Earth at `now`."""
    offsets = sorted({int(o) for o in cycle.reminder_offsets or []}, reverse=True)
    utc_today = now.astimezone(dt.UTC).date()
    # Calendars on Earth run at most a day ahead of or behind UTC: which occasions can be current anywhere?
    days = (utc_today - ONE_DAY, utc_today, utc_today + ONE_DAY)
    current = {
        offset
        for day in days
        if (
            offset := evidence_due_offset(
                today=day, deadline=cycle.evidence_deadline, offsets=offsets, opened_on=dt.date.min
            )
        )
        is not None
    }
    return offsets, current


def cycle_batches(
    *, cycle: Cycle, now: dt.datetime, config: PlanConfig, short: ShortCases | None = None
) -> Iterator[list[Planned]]:
    """Evidence-due reminders for the open cases of a cycle that are short, one list per chunk of cases.

    With `short`, every open case is evaluated and the short ones are counted into it (HR's digest lists them).
    """
    offsets, current = current_offsets(cycle, now)
    if not current and short is None:
        return
    scope = Case.objects.filter(cycle_id=cycle.pk).open()
    fields = (*CASE_REF_FIELDS, *CASE_RECIPIENT_FIELDS)
    after = 0
    while True:
        rows = list(scope.filter(pk__gt=after).order_by("pk").values_list(*fields)[: config.evaluate_batch])
        if not rows:
            return
        cases = [_open_case(row) for row in rows]
        after = cases[-1].ref.pk
        chunk = scope.filter(pk__range=(cases[0].ref.pk, after))
        yield _chunk_planned(cycle, cases, chunk, offsets, current, now, config, short)
        if len(rows) < config.evaluate_batch:
            return


def _chunk_planned(
    cycle: Cycle,
    cases: list[_OpenCase],
    chunk: Any,
    offsets: list[int],
    current: set[int],
    now: dt.datetime,
    config: PlanConfig,
    short: ShortCases | None,
) -> list[Planned]:
    """The evidence-due reminders of one chunk of a cycle's open cases (one query, and six to evaluate)."""
    existing: set[str] = set()
    if current:
        existing = set(
            Reminder.objects.filter(
                case_id__gte=cases[0].ref.pk,
                case_id__lte=cases[-1].ref.pk,
                kind=ReminderKind.EVIDENCE_DUE,
                occasion__in=[f"d-{o}" for o in current],
            ).values_list("key", flat=True)
        )
    due: list[tuple[_OpenCase, int]] = []
    for case in cases:
        recipient = case.recipient
        if recipient is None or not current:
            continue
        today = local_date(now, zone(recipient.timezone))
        offset = evidence_due_offset(
            today=today, deadline=cycle.evidence_deadline, offsets=offsets, opened_on=case.opened_on
        )
        if offset is None:
            continue
        key = reminder_key(ReminderKind.EVIDENCE_DUE, f"case-{case.ref.pk}", recipient.ref, f"d-{offset}")
        if key not in existing:
            due.append((case, offset))
    as_of = timezone.localdate(now)
    if short is not None or (due and len(due) == len(cases)):
        evaluations = evaluate_refs([case.ref for case in cases], today=as_of, scope=chunk)
    elif due:
        evaluations = evaluate_refs([case.ref for case, _ in due], today=as_of)
    else:
        return []
    if short is not None:
        short.add(cases, evaluations)
    return [
        _evidence_due(cycle, case, offset, evaluations[case.ref.pk], now, config)
        for case, offset in due
        if not evaluations[case.ref.pk].compliant
    ]


def _evidence_due(
    cycle: Cycle, case: _OpenCase, offset: int, evaluation: Evaluation, now: dt.datetime, config: PlanConfig
) -> Planned:
    recipient = case.recipient
    assert recipient is not None  # noqa: S101 - filtered by the caller
    unmet = unmet_rows(evaluation)
    met = len(evaluation.results) - len(unmet)
    return Planned(
        kind=ReminderKind.EVIDENCE_DUE,
        object_ref=f"case-{case.ref.pk}",
        occasion=f"d-{offset}",
        recipient=recipient,
        due_at=send_time(now, zone(recipient.timezone), config.hours),
        reason=(
            f"{plural(offset, 'day')} before the evidence deadline ({cycle.evidence_deadline.isoformat()}) of "
            f"{cycle.name}; {met} of {len(evaluation.results)} requirements met"
        )[:300],
        context={
            "cycle": cycle.name,
            "deadline": cycle.evidence_deadline.isoformat(),
            "offset": offset,
            "subject": case.subject,
            "unmet": unmet,
        },
        cycle_id=cycle.pk,
        case_id=case.ref.pk,
    )
