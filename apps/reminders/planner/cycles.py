"""Evidence-due reminders for short open cases, and HR escalations once a cycle's deadline passed with cases short.

Per open cycle, whatever its number of cases: a count, the escalation keys, one slice of its open cases with their
recipients' addresses and time zones, the keys already written for that slice, and the live checklists
(evaluate_refs, five queries) only when some case of the slice could get a new reminder.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.db.models.functions import Mod
from django.utils import timezone

from apps.cases.models import Case, Cycle
from apps.cases.selectors import CASE_REF_FIELDS, CaseRef, evaluate_refs
from apps.policies.engine import Evaluation

from ..constants import MAX_LISTED_CASES, OCCASION_DECISION_DEADLINE, OCCASION_EVIDENCE_DEADLINE, ReminderKind
from ..models import Reminder
from ..recipients import Recipient, employee_recipient
from ..timing import evidence_due_offset, local_date, send_time, zone
from .base import ONE_DAY, PlanConfig, Planned, plural, reminder_key, unmet_rows

# Slice summaries of a large cycle's escalation are kept this long (seconds) while the other slices are evaluated.
ESCALATION_SLICE_TTL = 2 * 24 * 3600

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


def cycle_candidates(*, cycle: Cycle, now: dt.datetime, config: PlanConfig, hr: Sequence[Recipient]) -> list[Planned]:
    """Evidence-due reminders for the open cases of a cycle that are short, and HR escalations past a deadline."""
    offsets = sorted({int(o) for o in cycle.reminder_offsets or []}, reverse=True)
    utc_today = now.astimezone(dt.UTC).date()
    # Calendars on Earth run at most a day ahead of or behind UTC: which occasions can be current anywhere?
    days = (utc_today - ONE_DAY, utc_today, utc_today + ONE_DAY)
    deadline = cycle.evidence_deadline
    current_offsets = {
        offset
        for day in days
        if (offset := evidence_due_offset(today=day, deadline=deadline, offsets=offsets, opened_on=dt.date.min))
        is not None
    }
    # Deadlines are the company's: they pass at midnight in TIME_ZONE, for every HR recipient at once.
    company_today = timezone.localdate(now)
    deadlines = {
        OCCASION_EVIDENCE_DEADLINE: cycle.evidence_deadline,
        OCCASION_DECISION_DEADLINE: cycle.decision_deadline,
    }
    passed = {occasion: day for occasion, day in deadlines.items() if company_today > day}
    if not current_offsets and not passed:
        return []

    scope = Case.objects.filter(cycle_id=cycle.pk).open()
    escalations: list[tuple[str, Recipient]] = []
    if passed and hr:
        written = set(
            Reminder.objects.filter(
                cycle_id=cycle.pk, kind=ReminderKind.ESCALATION, occasion__in=list(passed)
            ).values_list("key", flat=True)
        )
        escalations = [
            (occasion, person)
            for occasion in passed
            for person in hr
            if reminder_key(ReminderKind.ESCALATION, f"cycle-{cycle.pk}", person.ref, occasion) not in written
        ]
    if not escalations and not current_offsets:
        return []
    part, slot_filter = _slice(scope, now, config)

    cases = [_open_case(row) for row in part.order_by("pk").values_list(*CASE_REF_FIELDS, *CASE_RECIPIENT_FIELDS)]
    if not cases:
        return []
    existing_due = Reminder.objects.filter(cycle_id=cycle.pk, occasion__in=[f"d-{o}" for o in current_offsets])
    if slot_filter is not None:
        existing_due = existing_due.annotate(_slot=Mod("case_id", slot_filter[0])).filter(_slot=slot_filter[1])
    existing = set(existing_due.values_list("key", flat=True).iterator()) if current_offsets else set()

    due: list[tuple[_OpenCase, int]] = []
    for case in cases:
        recipient = case.recipient
        if recipient is None or not current_offsets:
            continue
        today = local_date(now, zone(recipient.timezone))
        offset = evidence_due_offset(today=today, deadline=deadline, offsets=offsets, opened_on=case.opened_on)
        if offset is None:
            continue
        key = reminder_key(ReminderKind.EVIDENCE_DUE, f"case-{case.ref.pk}", recipient.ref, f"d-{offset}")
        if key not in existing:
            due.append((case, offset))
    if not due and not escalations:
        return []

    as_of = timezone.localdate(now)
    if escalations or len(due) == len(cases):
        evaluations = evaluate_refs([case.ref for case in cases], today=as_of, scope=part)
    else:
        evaluations = evaluate_refs([case.ref for case, _ in due], today=as_of)

    planned = [
        _evidence_due(cycle, case, offset, evaluations[case.ref.pk], now, config)
        for case, offset in due
        if not evaluations[case.ref.pk].compliant
    ]
    if escalations:
        short = _short_summary(cases, evaluations)
        summary: dict[str, Any] | None = short
        if slot_filter is not None:
            summary = _all_slices(cycle, sorted({o for o, _ in escalations}), slot_filter, short)
        if summary is not None:
            for occasion, person in escalations:
                planned.append(_cycle_escalation(cycle, occasion, passed[occasion], person, summary, now, config))
    return planned


def _short_summary(cases: Sequence[_OpenCase], evaluations: dict[int, Evaluation]) -> dict[str, Any]:
    """How many of these cases are short, and the first few of them by name with what they miss."""
    short = [case for case in cases if not evaluations[case.ref.pk].compliant]
    listed = sorted(short, key=lambda case: (case.subject, case.ref.pk))[:MAX_LISTED_CASES]
    return {
        "short_count": len(short),
        "cases": [
            {
                "id": case.ref.pk,
                "subject": case.subject,
                "unmet": [r["label"] for r in unmet_rows(evaluations[case.ref.pk])],
            }
            for case in listed
        ],
    }


def _all_slices(
    cycle: Cycle, occasions: list[str], slot_filter: tuple[int, int], summary: dict[str, Any]
) -> dict[str, Any] | None:
    """Remember this slice's short cases; once every slice of the cycle is in, their merged summary (else None).

    The escalation lists every short case of a large cycle without evaluating it whole in one pass: each pass
    adds its slice's summary to the cache (an aid only: if it is lost, the slices are evaluated again).
    """
    slices, slot = slot_filter
    prefix = f"reminders:escalation:{cycle.pk}:{'+'.join(occasions)}:{slices}"
    try:
        cache.set(f"{prefix}:{slot}", summary, timeout=ESCALATION_SLICE_TTL)
        found = cache.get_many([f"{prefix}:{i}" for i in range(slices)])
    except Exception:  # noqa: BLE001 - a cache outage only delays the escalation to a later pass
        return None
    if len(found) < slices:
        return None
    cases = sorted((c for part in found.values() for c in part["cases"]), key=lambda c: (c["subject"], c["id"]))
    return {"short_count": sum(part["short_count"] for part in found.values()), "cases": cases[:MAX_LISTED_CASES]}


def _slice(
    scope: QuerySet[Case], now: dt.datetime, config: PlanConfig
) -> tuple[QuerySet[Case], tuple[int, int] | None]:
    """The part of a cycle's open cases this pass checks: all of them, or one of K slices (by id modulo K).

    With more open cases than REMINDERS_EVALUATE_BATCH, successive passes take successive slices, so a pass
    evaluates at most about that many cases and every case is checked once every K passes.
    """
    total = scope.count()
    slices = max(1, math.ceil(total / config.evaluate_batch))
    if slices == 1:
        return scope, None
    slot = int(now.timestamp() // config.plan_every) % slices
    return scope.annotate(_slot=Mod("id", slices)).filter(_slot=slot), (slices, slot)


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


def _cycle_escalation(
    cycle: Cycle,
    occasion: str,
    day: dt.date,
    person: Recipient,
    summary: dict[str, Any],
    now: dt.datetime,
    config: PlanConfig,
) -> Planned:
    what = "evidence" if occasion == OCCASION_EVIDENCE_DEADLINE else "decision"
    short_count = summary["short_count"]
    return Planned(
        kind=ReminderKind.ESCALATION,
        object_ref=f"cycle-{cycle.pk}",
        occasion=occasion,
        recipient=person,
        due_at=send_time(now, zone(person.timezone), config.hours),
        reason=f"The {what} deadline of {cycle.name} ({day.isoformat()}) passed with "
        f"{plural(short_count, 'open case')} short of policy"[:300],
        context={
            "cycle": cycle.name,
            "deadline_kind": what,
            "deadline": day.isoformat(),
            "short_count": short_count,
            "cases": summary["cases"],
        },
        cycle_id=cycle.pk,
        # Recorded even when nothing is short, so the cycle is not evaluated again for this occasion.
        cancelled=""
        if short_count
        else "Nothing to escalate: every open case met its policy when the deadline passed.",
    )
