"""The retention plan: what each rule removes and when, what a legal hold keeps (reads only).

One function per kind finds the rows whose period ends by a given day (one query each); the dry run, the rule list,
the upcoming list and the run itself all read through `collect`, so a run removes exactly what its dry run listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils import timezone

from apps.cases.constants import CaseStatus
from apps.cases.models import Case, CaseEvidence
from apps.evidence.models import Attachment
from apps.reminders.constants import ReminderKind, ReminderStatus
from apps.reminders.models import Reminder

from ..constants import RetentionKind
from ..models import LegalHold, RetentionRule

CASE_TYPE = "cases.case"
ATTACHMENT_TYPE = "evidence.attachment"
REMINDER_TYPE = "reminders.reminder"

REJECTED = (CaseStatus.REJECTED, CaseStatus.WITHDRAWN)
HIRED = (CaseStatus.APPROVED, CaseStatus.APPROVED_WITH_EXCEPTION)
DECIDED = (*HIRED, *REJECTED)
# A reminder in one of these states is finished: only its log remains (pending and sending ones are still work).
FINISHED_REMINDERS = (
    ReminderStatus.SENT,
    ReminderStatus.FAILED,
    ReminderStatus.UNCERTAIN,
    ReminderStatus.CANCELLED,
)


@dataclass(frozen=True, slots=True)
class Removal:
    """One thing a retention rule removes (or would, but for a legal hold), described without personal content."""

    kind: str
    object_type: str
    object_id: int
    label: str
    due_on: dt.date
    rule_id: int
    rule_enabled: bool = True
    held_by: int | None = None

    @property
    def removable(self) -> bool:
        """What a run removes: due under an enabled rule and not kept by a legal hold."""
        return self.rule_enabled and self.held_by is None

    @property
    def kind_label(self) -> str:
        return str(RetentionKind(self.kind).label)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind, self.object_type, self.object_id)


@dataclass(frozen=True, slots=True)
class Holds:
    """The active legal holds, by what they name: case id -> hold id, employee id -> hold id (one query)."""

    by_case: dict[int, int]
    by_employee: dict[int, int]

    @classmethod
    def load(cls) -> Holds:
        by_case: dict[int, int] = {}
        by_employee: dict[int, int] = {}
        rows = (
            LegalHold.objects.active()
            .order_by("pk")
            .values_list("pk", "employee_id", "case_id", "case__subject_employee_id")
        )
        for hold_id, employee_id, case_id, subject_id in rows:
            if case_id is not None:
                by_case.setdefault(case_id, hold_id)
            for person in (employee_id, subject_id):  # a hold on a case about a person holds the person (holds.py)
                if person is not None:
                    by_employee.setdefault(person, hold_id)
        return cls(by_case=by_case, by_employee=by_employee)

    def first(self, *, cases: Iterable[int | None] = (), employees: Iterable[int | None] = ()) -> int | None:
        """The hold that keeps something about these cases or people, if any."""
        for case_id in cases:
            if case_id is not None and case_id in self.by_case:
                return self.by_case[case_id]
        for employee_id in employees:
            if employee_id is not None and employee_id in self.by_employee:
                return self.by_employee[employee_id]
        return None


def _day_start(day: dt.date) -> dt.datetime:
    """The first instant of `day` in the site's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _local(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment)


def _removal(
    rule: RetentionRule, object_type: str, object_id: int, label: str, since: dt.date, held_by: int | None
) -> Removal:
    """One item of `rule`, due `keep_days` after the day its period counts from."""
    return Removal(
        kind=rule.kind,
        object_type=object_type,
        object_id=object_id,
        label=label,
        due_on=since + dt.timedelta(days=rule.keep_days),
        rule_id=rule.pk,
        rule_enabled=rule.enabled,
        held_by=held_by,
    )


def _case_removal(
    rule: RetentionRule, pk: int, status: str, decided_at: dt.datetime, ritual: str, held_by: int | None
) -> Removal:
    """A decided case, due `keep_days` after its decision; labelled without personal content."""
    decided_on = _local(decided_at)
    label = f"Case #{pk} ({ritual.lower()}, {CaseStatus(status).label.lower()} {decided_on:%Y-%m-%d})"
    return _removal(rule, CASE_TYPE, pk, label, decided_on, held_by)


def _candidate_cases(rule: RetentionRule, until: dt.date, holds: Holds) -> list[Removal]:
    """Hiring cases (a candidate, not an employee) decided `keep_days` before `until` or earlier, not yet erased."""
    statuses = REJECTED if rule.kind == RetentionKind.REJECTED_CANDIDATES else HIRED
    decided_before = _day_start(until - dt.timedelta(days=rule.keep_days - 1))
    rows = (
        Case.objects.filter(
            subject_employee__isnull=True,
            subject_unit__isnull=True,
            status__in=statuses,
            decided_at__lt=decided_before,
            candidate_erasure__isnull=True,
        )
        .order_by("decided_at", "pk")
        .values_list("pk", "status", "decided_at", "cycle__ritual_type__name")
    )
    return [
        _case_removal(rule, pk, status, decided_at, ritual, holds.first(cases=[pk]))
        for pk, status, decided_at, ritual in rows
        if decided_at is not None  # the filter excludes it; the check tells the type checker
    ]


def _leaver_attachments(rule: RetentionRule, until: dt.date, holds: Holds) -> list[Removal]:
    """Attachments of evidence owned by people who left `keep_days` before `until` or earlier."""
    left_by = until - dt.timedelta(days=rule.keep_days)
    rows = list(
        Attachment.objects.filter(evidence__owner__left_on__lte=left_by, evidence__owner__active=False)
        .order_by("evidence__owner__left_on", "pk")
        .values_list("pk", "evidence_id", "evidence__owner_id", "evidence__owner__left_on")
    )
    # Evidence linked to a held case is kept with the case (one query, only when some case is held).
    held_links: dict[int, int] = {}
    if holds.by_case and rows:
        links = CaseEvidence.objects.filter(case_id__in=list(holds.by_case), evidence_id__in={r[1] for r in rows})
        for evidence_id, case_id in links.values_list("evidence_id", "case_id"):
            held_links.setdefault(evidence_id, holds.by_case[case_id])
    return [
        _removal(
            rule,
            ATTACHMENT_TYPE,
            pk,
            f"Attachment #{pk} of evidence #{evidence_id} (owner left {left_on:%Y-%m-%d})",
            left_on,
            held_links.get(evidence_id) or holds.first(employees=[owner_id]),
        )
        for pk, evidence_id, owner_id, left_on in rows
        if left_on is not None
    ]


def _reminder_logs(rule: RetentionRule, until: dt.date, holds: Holds) -> list[Removal]:
    """Finished reminders whose last activity is `keep_days` before `until` or earlier."""
    active_before = _day_start(until - dt.timedelta(days=rule.keep_days - 1))
    rows = (
        Reminder.objects.filter(status__in=FINISHED_REMINDERS, updated_at__lt=active_before)
        .order_by("updated_at", "pk")
        .values_list(
            "pk",
            "kind",
            "status",
            "updated_at",
            "case_id",
            "case__subject_employee_id",
            "recipient_employee_id",
            "evidence__owner_id",
        )
    )
    found = []
    for pk, kind, status, updated_at, case_id, subject_id, recipient_id, owner_id in rows:
        last = _local(updated_at)
        kind_label = ReminderKind(kind).label.lower() if kind in ReminderKind.values else kind
        label = f"Reminder #{pk} ({kind_label}, {ReminderStatus(status).label.lower()}, last {last:%Y-%m-%d})"
        held_by = holds.first(cases=[case_id], employees=[subject_id, recipient_id, owner_id])
        found.append(_removal(rule, REMINDER_TYPE, pk, label, last, held_by))
    return found


def _decided_cases(rule: RetentionRule, until: dt.date, holds: Holds) -> list[Removal]:
    """Cases decided `keep_days` before `until` or earlier, whatever their subject."""
    decided_before = _day_start(until - dt.timedelta(days=rule.keep_days - 1))
    rows = (
        Case.objects.filter(status__in=DECIDED, decided_at__lt=decided_before)
        .order_by("decided_at", "pk")
        .values_list("pk", "status", "decided_at", "cycle__ritual_type__name", "subject_employee_id")
    )
    return [
        _case_removal(rule, pk, status, decided_at, ritual, holds.first(cases=[pk], employees=[subject_id]))
        for pk, status, decided_at, ritual, subject_id in rows
        if decided_at is not None
    ]


FINDERS: dict[str, Callable[[RetentionRule, dt.date, Holds], list[Removal]]] = {
    RetentionKind.REJECTED_CANDIDATES: _candidate_cases,
    RetentionKind.HIRED_CANDIDATES: _candidate_cases,
    RetentionKind.LEAVER_ATTACHMENTS: _leaver_attachments,
    RetentionKind.REMINDER_LOGS: _reminder_logs,
    RetentionKind.DECIDED_CASES: _decided_cases,
}
# The order a run applies the kinds in: a candidate is erased before a case that is also due is deleted.
KIND_ORDER = list(FINDERS)


def collect(until: dt.date, *, kinds: Iterable[str] | None = None) -> list[Removal]:
    """Everything due on or before `until` under every rule (enabled or not), held items marked, in run order."""
    wanted = set(kinds) if kinds is not None else None
    rules = {rule.kind: rule for rule in RetentionRule.objects.all()}
    holds = Holds.load()
    found: list[Removal] = []
    for kind in KIND_ORDER:
        rule = rules.get(kind)
        if rule is None or (wanted is not None and kind not in wanted):
            continue
        found.extend(FINDERS[kind](rule, until, holds))
    return found


def plan_retention(today: dt.date) -> list[Removal]:
    """What is due today: the items a run removes (`removable`), and those kept by a hold or a disabled rule."""
    return collect(today)


def upcoming(today: dt.date, days: int = 30) -> list[Removal]:
    """What becomes due in the next `days` days (after today), soonest first."""
    soon = [item for item in collect(today + dt.timedelta(days=days)) if item.due_on > today]
    return sorted(soon, key=lambda item: (item.due_on, KIND_ORDER.index(item.kind), item.object_id))


@dataclass(frozen=True, slots=True)
class RuleSummary:
    """What one rule removes now and in the next days (the rule list's columns)."""

    due_now: int
    held: int
    upcoming: int


def summaries(today: dt.date, days: int = 30) -> dict[str, RuleSummary]:
    """Per kind: due now (removable or disabled), kept by a hold, due within `days` (one pass of `collect`)."""
    counts: dict[str, list[int]] = {kind: [0, 0, 0] for kind in KIND_ORDER}
    for item in collect(today + dt.timedelta(days=days)):
        row = counts[item.kind]
        if item.due_on > today:
            row[2] += 1
        elif item.held_by is not None:
            row[1] += 1
        else:
            row[0] += 1
    return {kind: RuleSummary(*row) for kind, row in counts.items()}
