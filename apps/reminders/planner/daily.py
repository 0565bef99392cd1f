"""Daily batches: one reminder per person and company day listing what reached its moment, not one per item.

Two kinds are batched: HR's escalation digest (items nobody reviewed in REMINDERS_ESCALATION_DAYS, and cycles whose
evidence or decision deadline passed with cases still short) and each reviewer's items waiting
REMINDERS_REVIEW_WAITING_DAYS. The batch of company day D (key `kind:<object>:<recipient>:D`) is written by the first
pass of D and covers the moments that fell on the days since the person's previous batch of that kind, up to the
end of D - 1 (at most REMINDERS_REVIEW_LOOKBACK_DAYS + 1 days back). So a second pass on D writes nothing, a moment
later on D waits for D + 1's batch, and a planner stopped for a day catches up in one batch.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Max
from django.utils import timezone

from apps.cases.models import Cycle
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence

from ..constants import OCCASION_DECISION_DEADLINE, OCCASION_EVIDENCE_DEADLINE, ReminderKind
from ..models import Reminder
from ..recipients import Recipient
from ..timing import send_time, zone
from .base import ONE_DAY, PlanConfig, Planned, company_midnight, plural
from .reviews import ITEM_FIELDS, reviewers_of

# The object part of a daily batch's key: `escalation:hr-digest:user-5:2026-11-21`.
BATCH_OBJECT: dict[str, str] = {ReminderKind.ESCALATION: "hr-digest", ReminderKind.REVIEW_WAITING: "review-batch"}
NOTHING_TO_ESCALATE = "Nothing to escalate: every open case met its policy when its deadline passed."


@dataclass(frozen=True, slots=True)
class Window:
    """The days a batch covers: moments from midnight of `first` to midnight of `day` (the batch's own day)."""

    first: dt.date
    day: dt.date

    @property
    def start(self) -> dt.datetime:
        return company_midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        return company_midnight(self.day)

    def covers(self, day: dt.date) -> bool:
        return self.first <= day < self.day


def is_batch(reminder: Reminder) -> bool:
    """A daily batch (HR digest or reviewer batch), not a per-item or per-cycle row of the same kind."""
    return reminder.kind in BATCH_OBJECT and reminder.evidence_id is None and reminder.cycle_id is None


def _windows(kind: str, people: Sequence[Recipient], *, now: dt.datetime, config: PlanConfig) -> dict[int, Window]:
    """The window of each person's batch of today, for those who have none yet (one query)."""
    day = timezone.localdate(now)
    floor = day - ONE_DAY * (config.review_lookback_days + 1)
    ids = sorted({p.user_id for p in people if p.user_id is not None})
    if not ids:
        return {}
    last = dict(
        Reminder.objects.filter(
            kind=kind,
            evidence__isnull=True,
            cycle__isnull=True,
            recipient_user_id__in=ids,
            # ISO days sort as text; the bounds keep any other occasion of the kind out.
            occasion__gte=floor.isoformat(),
            occasion__lte=day.isoformat(),
        )
        .order_by()
        .values_list("recipient_user_id")
        .annotate(last=Max("occasion"))
    )
    windows = {}
    for user_id in ids:
        previous = dt.date.fromisoformat(last[user_id]) if user_id in last else floor
        if previous < day:
            windows[user_id] = Window(first=max(previous, floor), day=day)
    return windows


def _batch(
    kind: str, person: Recipient, window: Window, *, now: dt.datetime, config: PlanConfig, reason: str, **extra: Any
) -> Planned:
    return Planned(
        kind=kind,
        object_ref=BATCH_OBJECT[kind],
        occasion=window.day.isoformat(),
        recipient=person,
        due_at=send_time(now, zone(person.timezone), config.hours),
        reason=reason[:300],
        context={"day": window.day.isoformat(), "covers": [window.first.isoformat(), window.day.isoformat()]},
        **extra,
    )


def _item(row: Sequence[Any], now: dt.datetime) -> dict[str, Any]:
    pk, title, submitted_at, owner = row[:4]
    return {
        "id": pk,
        "title": title,
        "owner": owner,
        "submitted_at": submitted_at.isoformat(),
        "waited_days": int((now - submitted_at).total_seconds() // 86400),
    }


# ------------------------------------------------------------------------------------------------ reviewers


def review_batches(*, now: dt.datetime, config: PlanConfig, cx: Sequence[Recipient]) -> list[Planned]:
    """Each reviewer's items that reached REMINDERS_REVIEW_WAITING_DAYS, one reminder per reviewer and day.

    Three queries: the items whose moment fell in the longest window, the reviewers' previous batches (and the CX
    reviewers, read by the caller).
    """
    day = timezone.localdate(now)
    waited = dt.timedelta(days=config.review_waiting_days)
    earliest = Window(first=day - ONE_DAY * (config.review_lookback_days + 1), day=day)
    rows = list(
        Evidence.objects.filter(
            status=EvidenceStatus.SUBMITTED,
            submitted_at__gte=earliest.start - waited,
            submitted_at__lt=earliest.end - waited,
        )
        .order_by("submitted_at", "pk")
        .values_list(*ITEM_FIELDS)
    )
    if not rows:
        return []
    items_of: dict[int, list[tuple]] = defaultdict(list)
    people: dict[int, Recipient] = {}
    for row in rows:
        for person in reviewers_of(row, cx):
            if person.user_id is not None:
                people.setdefault(person.user_id, person)
                items_of[person.user_id].append(row)
    windows = _windows(ReminderKind.REVIEW_WAITING, list(people.values()), now=now, config=config)
    planned = []
    for user_id, window in windows.items():
        mine = [row for row in items_of[user_id] if row[2] >= window.start - waited]
        if not mine:
            continue
        item = _batch(
            ReminderKind.REVIEW_WAITING,
            people[user_id],
            window,
            now=now,
            config=config,
            reason=f"{plural(len(mine), 'item')} waiting for your review for "
            f"{plural(config.review_waiting_days, 'day')} or more",
        )
        item.context.update(
            total=len(mine),
            waited=config.review_waiting_days,
            items=[_item((row[0], row[1], row[2], row[4]), now) for row in mine[: config.listed]],
        )
        planned.append(item)
    return planned


# ------------------------------------------------------------------------------------------------ HR


def hr_windows(*, now: dt.datetime, config: PlanConfig, hr: Sequence[Recipient]) -> dict[int, Window]:
    """The window of each HR person's digest of today, for those who have none yet (one query)."""
    return _windows(ReminderKind.ESCALATION, hr, now=now, config=config)


def deadlines_passed(cycle: Cycle, windows: Iterable[Window]) -> list[tuple[str, dt.date]]:
    """The cycle's deadlines that passed within any of these windows (a deadline passes at the end of its day)."""
    windows = list(windows)
    deadlines = (
        (OCCASION_EVIDENCE_DEADLINE, cycle.evidence_deadline),
        (OCCASION_DECISION_DEADLINE, cycle.decision_deadline),
    )
    return [(occasion, day) for occasion, day in deadlines if any(w.covers(day) for w in windows)]


@dataclass(frozen=True, slots=True)
class CycleShort:
    """A cycle's deadline that passed with its short cases, as HR's digest lists it."""

    cycle: Cycle
    occasion: str
    deadline: dt.date
    summary: dict[str, Any]

    def as_context(self) -> dict[str, Any]:
        what = "evidence" if self.occasion == OCCASION_EVIDENCE_DEADLINE else "decision"
        return {
            "id": self.cycle.pk,
            "name": self.cycle.name,
            "deadline_kind": what,
            "deadline": self.deadline.isoformat(),
            **self.summary,
        }


def hr_digests(
    *,
    now: dt.datetime,
    config: PlanConfig,
    hr: Sequence[Recipient],
    windows: dict[int, Window],
    cycles: Sequence[CycleShort],
) -> list[Planned]:
    """HR's escalation digest of today for each HR person without one: two queries per distinct window (usually one).

    Written even when nothing is left to escalate if a deadline passed in the window (cancelled, so the cycle is not
    evaluated again today); with no deadline and no item in the window, nothing is written.
    """
    by_window: dict[Window, list[Recipient]] = defaultdict(list)
    for person in hr:
        if person.user_id in windows:
            by_window[windows[person.user_id]].append(person)
    waited = dt.timedelta(days=config.escalation_days)
    planned = []
    for window, people in by_window.items():
        items = Evidence.objects.filter(
            status=EvidenceStatus.SUBMITTED,
            submitted_at__gte=window.start - waited,
            submitted_at__lt=window.end - waited,
        )
        count = items.count()
        listed = (
            [
                _item(row, now)
                for row in items.order_by("submitted_at", "pk").values_list(
                    "pk", "title", "submitted_at", "owner__full_name"
                )[: config.listed]
            ]
            if count
            else []
        )
        passed = [c for c in cycles if window.covers(c.deadline)]
        if not count and not passed:
            continue
        short = [c.as_context() for c in passed if c.summary["short_count"]]
        parts = []
        if count:
            parts.append(f"{plural(count, 'item')} unreviewed for {plural(config.escalation_days, 'day')}")
        parts += [
            f"{c['name']}: {plural(c['short_count'], 'open case')} short after the {c['deadline_kind']} deadline"
            for c in short
        ]
        for person in people:
            item = _batch(
                ReminderKind.ESCALATION,
                person,
                window,
                now=now,
                config=config,
                reason="; ".join(parts) or NOTHING_TO_ESCALATE,
                cancelled="" if parts else NOTHING_TO_ESCALATE,
            )
            item.context.update(
                escalation_days=config.escalation_days,
                review_count=count,
                reviews=listed,
                review_window=[(window.start - waited).isoformat(), (window.end - waited).isoformat()],
                cycles=short,
            )
            planned.append(item)
    return planned
