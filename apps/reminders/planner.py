"""The planner's reads: every reminder that is due now or later today and not in the log yet, and why.

A fixed number of queries per open cycle plus a few for reviews and digests, whatever the number of cases:
each cycle's open cases and their recipients in one query, the keys already written in one, and the live
checklists (evaluate_refs) in five, only for the cases that could get a new reminder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from apps.cases.models import Case, Cycle
from apps.cases.selectors import CASE_REF_FIELDS, CaseRef, evaluate_refs
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.org.models import Employee
from apps.policies.engine import Evaluation

from .constants import (
    MAX_LISTED_CASES,
    OCCASION_DECISION_DEADLINE,
    OCCASION_EVIDENCE_DEADLINE,
    ReminderKind,
)
from .models import Reminder, ReminderPreference
from .recipients import Recipient, cx_reviewers, employee_recipient, hr_recipients
from .timing import (
    SendingHours,
    days_between,
    digest_week,
    evidence_due_offset,
    iso_week,
    local_date,
    send_time,
    zone,
)

# Below this many cases to evaluate, the checklists load by id list; above, by the cycle as a subquery.
SUBSET_LIMIT = 2000
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PlanConfig:
    """The planner's rules, from settings."""

    hours: SendingHours
    review_waiting_days: int
    escalation_days: int
    digest_weekday: int

    @classmethod
    def from_settings(cls) -> PlanConfig:
        return cls(
            hours=SendingHours(settings.REMINDERS_SEND_START_HOUR, settings.REMINDERS_SEND_END_HOUR),
            review_waiting_days=settings.REMINDERS_REVIEW_WAITING_DAYS,
            escalation_days=settings.REMINDERS_ESCALATION_DAYS,
            digest_weekday=settings.REMINDERS_DIGEST_WEEKDAY,
        )


@dataclass(slots=True)
class Planned:
    """A reminder the planner wants in the log: the row to insert, unless its key is already there."""

    kind: str
    object_ref: str
    occasion: str
    recipient: Recipient
    due_at: dt.datetime
    reason: str
    context: dict[str, Any] = field(default_factory=dict)
    cycle_id: int | None = None
    case_id: int | None = None
    evidence_id: int | None = None
    # Set when the occasion needs recording but no mail (e.g. a deadline passed and nothing is short).
    cancelled: str = ""

    @property
    def key(self) -> str:
        return reminder_key(self.kind, self.object_ref, self.recipient.ref, self.occasion)


def reminder_key(kind: str, object_ref: str, recipient_ref: str, occasion: str) -> str:
    """The unique key of a reminder: kind, object, recipient, occasion."""
    return f"{kind}:{object_ref}:{recipient_ref}:{occasion}"


def plan_candidates(*, now: dt.datetime, config: PlanConfig | None = None) -> list[Planned]:
    """Every reminder due now or later today that is not in the log yet (not written: see reminders_plan)."""
    config = config or PlanConfig.from_settings()
    hr = hr_recipients()
    planned: list[Planned] = []
    for cycle in Cycle.objects.open().order_by("pk"):
        planned.extend(cycle_candidates(cycle=cycle, now=now, config=config, hr=hr))
    planned.extend(review_candidates(now=now, config=config, hr=hr))
    planned.extend(digest_candidates(now=now, config=config))
    return planned


# ------------------------------------------------------------------------------------------------ cycles


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


def unmet_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The unmet requirements of an evaluation as the e-mails show them."""
    return [{"label": r.label, "have": r.have, "need": r.need, "reason": r.reason} for r in evaluation.unmet]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


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
    deadlines = {
        OCCASION_EVIDENCE_DEADLINE: cycle.evidence_deadline,
        OCCASION_DECISION_DEADLINE: cycle.decision_deadline,
    }
    passed = {occasion: day for occasion, day in deadlines.items() if days[-1] > day}
    if not current_offsets and not passed:
        return []

    scope = Case.objects.filter(cycle_id=cycle.pk).open()
    cases = [_open_case(row) for row in scope.order_by("pk").values_list(*CASE_REF_FIELDS, *CASE_RECIPIENT_FIELDS)]
    if not cases:
        return []
    occasions = [f"d-{offset}" for offset in current_offsets] + list(passed)
    existing = set(
        Reminder.objects.filter(cycle_id=cycle.pk, occasion__in=occasions).values_list("key", flat=True).iterator()
    )

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

    escalations = [
        (occasion, person)
        for occasion, day in passed.items()
        for person in hr
        if local_date(now, zone(person.timezone)) > day
        and reminder_key(ReminderKind.ESCALATION, f"cycle-{cycle.pk}", person.ref, occasion) not in existing
    ]
    if not due and not escalations:
        return []

    as_of = timezone.localdate(now)
    if escalations or len(due) > SUBSET_LIMIT:
        evaluations = evaluate_refs([case.ref for case in cases], today=as_of, scope=scope)
    else:
        evaluations = evaluate_refs([case.ref for case, _ in due], today=as_of)

    planned = [
        _evidence_due(cycle, case, offset, evaluations[case.ref.pk], now, config)
        for case, offset in due
        if not evaluations[case.ref.pk].compliant
    ]
    if escalations:
        short = [case for case in cases if not evaluations[case.ref.pk].compliant]
        for occasion, person in escalations:
            planned.append(
                _cycle_escalation(cycle, occasion, passed[occasion], person, short, evaluations, now, config)
            )
    return planned


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
            f"{_plural(offset, 'day')} before the evidence deadline ({cycle.evidence_deadline.isoformat()}) of "
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
    short: list[_OpenCase],
    evaluations: dict[int, Evaluation],
    now: dt.datetime,
    config: PlanConfig,
) -> Planned:
    what = "evidence" if occasion == OCCASION_EVIDENCE_DEADLINE else "decision"
    listed = sorted(short, key=lambda case: (case.subject, case.ref.pk))[:MAX_LISTED_CASES]
    return Planned(
        kind=ReminderKind.ESCALATION,
        object_ref=f"cycle-{cycle.pk}",
        occasion=occasion,
        recipient=person,
        due_at=send_time(now, zone(person.timezone), config.hours),
        reason=f"The {what} deadline of {cycle.name} ({day.isoformat()}) passed with "
        f"{_plural(len(short), 'open case')} short of policy"[:300],
        context={
            "cycle": cycle.name,
            "deadline_kind": what,
            "deadline": day.isoformat(),
            "short_count": len(short),
            "cases": [
                {
                    "id": case.ref.pk,
                    "subject": case.subject,
                    "unmet": [r["label"] for r in unmet_rows(evaluations[case.ref.pk])],
                }
                for case in listed
            ],
        },
        cycle_id=cycle.pk,
        # Recorded even when nothing is short, so the cycle is not evaluated again for this occasion.
        cancelled="" if short else "Nothing to escalate: every open case met its policy when the deadline passed.",
    )


# ------------------------------------------------------------------------------------------------ reviews


# Fields of a submitted item read for `review_planned`, in order.
ITEM_FIELDS = (
    "pk", "title", "submitted_at", "owner_id", "owner__full_name", "owner__user_id", "owner__manager_id",
    "owner__manager__user_id", "owner__manager__full_name", "owner__manager__email", "owner__manager__timezone",
    "owner__manager__active",
)  # fmt: skip


def submission_stamp(submitted_at: dt.datetime) -> str:
    """The part of a review reminder's occasion naming the submission (a resubmission is a new occasion)."""
    return submitted_at.astimezone(dt.UTC).strftime("submitted-%Y%m%dT%H%M%SZ")


def reviewers_of(row: tuple, cx: Sequence[Recipient]) -> list[Recipient]:
    """Who reviews a submitted item: the owner's manager (with a login) and the CX reviewers, never the owner."""
    owner_user_id = row[5]
    manager_user_id, name, email, tz, active = row[7:12]
    people: list[Recipient] = []
    if manager_user_id is not None and active and email and manager_user_id != owner_user_id:
        people.append(Recipient(email=email, name=name, timezone=tz, user_id=manager_user_id))
    seen = {p.user_id for p in people} | {owner_user_id}
    people.extend(p for p in cx if p.user_id not in seen)
    return people


def review_planned(
    row: tuple,
    *,
    now: dt.datetime,
    config: PlanConfig,
    cx: Sequence[Recipient],
    hr: Sequence[Recipient],
    kinds: Iterable[str] = (ReminderKind.REVIEW_REQUESTED, ReminderKind.REVIEW_WAITING, ReminderKind.ESCALATION),
) -> list[Planned]:
    """The review reminders of one submitted item at `now`: requested at once, waiting after N days, HR after M."""
    pk, title, submitted_at, _owner_id, owner_name = row[:5]
    stamp = submission_stamp(submitted_at)
    waited = days_between(submitted_at, now)
    context = {"title": title, "owner": owner_name, "submitted_at": submitted_at.isoformat()}
    wanted = set(kinds)
    steps: list[tuple[str, str, Sequence[Recipient], str]] = []
    if waited < config.review_waiting_days:
        steps.append((ReminderKind.REVIEW_REQUESTED, stamp, reviewers_of(row, cx), f"{owner_name} submitted it"))
    else:
        occasion = f"{stamp}-waited-{config.review_waiting_days}d"
        reason = f"Waiting for review since {submitted_at:%Y-%m-%d} ({_plural(int(waited), 'day')})"
        steps.append((ReminderKind.REVIEW_WAITING, occasion, reviewers_of(row, cx), reason))
    if waited >= config.escalation_days:
        occasion = f"{stamp}-waited-{config.escalation_days}d"
        reason = f"Nobody reviewed it in {_plural(config.escalation_days, 'day')} (since {submitted_at:%Y-%m-%d})"
        steps.append((ReminderKind.ESCALATION, occasion, hr, reason))
    return [
        Planned(
            kind=kind,
            object_ref=f"evidence-{pk}",
            occasion=occasion,
            recipient=person,
            due_at=send_time(now, zone(person.timezone), config.hours),
            reason=f"“{title}”: {reason}"[:300],
            context={**context, "waited_days": int(waited)},
            evidence_id=pk,
        )
        for kind, occasion, people, reason in steps
        if kind in wanted
        for person in people
    ]


def review_candidates(*, now: dt.datetime, config: PlanConfig, hr: Sequence[Recipient]) -> list[Planned]:
    """Review reminders for every submitted item that are not in the log yet (three queries)."""
    submitted = Evidence.objects.filter(status=EvidenceStatus.SUBMITTED, submitted_at__isnull=False)
    rows = list(submitted.order_by("pk").values_list(*ITEM_FIELDS))
    if not rows:
        return []
    cx = cx_reviewers()
    existing = set(
        Reminder.objects.filter(evidence__in=submitted.values("pk"), kind__in=REVIEW_KINDS)
        .values_list("key", flat=True)
        .iterator()
    )
    planned = []
    for row in rows:
        planned.extend(p for p in review_planned(row, now=now, config=config, cx=cx, hr=hr) if p.key not in existing)
    return planned


REVIEW_KINDS = (ReminderKind.REVIEW_REQUESTED, ReminderKind.REVIEW_WAITING, ReminderKind.ESCALATION)


# ------------------------------------------------------------------------------------------------ digests


def digest_candidates(*, now: dt.datetime, config: PlanConfig) -> list[Planned]:
    """A weekly digest for each manager whose direct reports have open cases or items waiting (three queries)."""
    open_cases = dict(
        Case.objects.open()
        .filter(subject_employee__manager__isnull=False)
        .order_by()
        .values_list("subject_employee__manager_id")
        .annotate(n=Count("pk"))
    )
    waiting = dict(
        Evidence.objects.filter(status=EvidenceStatus.SUBMITTED, owner__manager__isnull=False)
        .order_by()
        .values_list("owner__manager_id")
        .annotate(n=Count("pk"))
    )
    if not open_cases and not waiting:
        return []
    opted_out = ReminderPreference.objects.filter(employee_id=OuterRef("pk"), weekly_digest=False)
    managers = (
        Employee.objects.filter(Q(pk__in=list(open_cases)) | Q(pk__in=list(waiting)), active=True)
        .exclude(email="")
        .exclude(Exists(opted_out))
        .values_list("pk", "full_name", "email", "timezone")
    )
    weeks = {digest_week(day, config.digest_weekday) for day in _days_around(now)} - {None}
    existing = set(
        Reminder.objects.filter(kind=ReminderKind.DIGEST, occasion__in=weeks).values_list("key", flat=True).iterator()
    )
    planned = []
    for pk, name, email, tz in managers:
        person = Recipient(email=email, name=name, timezone=tz, employee_id=pk)
        week = digest_week(local_date(now, zone(tz)), config.digest_weekday)
        due_at = send_time(now, zone(tz), config.hours)
        if week is None or iso_week(local_date(due_at, zone(tz))) != week:
            continue  # before the digest day, or too late on Sunday for this week's digest to go out this week
        item = Planned(
            kind=ReminderKind.DIGEST,
            object_ref=f"team-{pk}",
            occasion=week,
            recipient=person,
            due_at=due_at,
            reason=f"Weekly digest {week}: {_plural(open_cases.get(pk, 0), 'open case')} in the team, "
            f"{_plural(waiting.get(pk, 0), 'item')} waiting for review",
            context={"week": week},
        )
        if item.key not in existing:
            planned.append(item)
    return planned


def _days_around(now: dt.datetime) -> tuple[dt.date, ...]:
    today = now.astimezone(dt.UTC).date()
    return (today - ONE_DAY, today, today + ONE_DAY)
