"""Review reminders: reviewers asked at once, reminded after N days, HR told after M days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from django.db.models import Q

from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence

from ..constants import ReminderKind
from ..models import Reminder
from ..recipients import Recipient, cx_reviewers, user_recipient
from ..timing import days_between, send_time, zone
from .base import PlanConfig, Planned, plural, reminder_key

# Fields of a submitted item read for `review_planned`, in order.
ITEM_FIELDS = (
    "pk", "title", "submitted_at", "owner_id", "owner__full_name", "owner__user_id", "owner__manager_id",
    "owner__manager__user_id", "owner__manager__full_name", "owner__manager__email", "owner__manager__timezone",
    "owner__manager__active",
    # The reviewer of the last review, read as `recipients.USER_FIELDS` (a resubmission goes back to them).
    "reviewed_at", "review_comment", "reviewer_id", "reviewer__username", "reviewer__first_name",
    "reviewer__last_name", "reviewer__email", "reviewer__employee__full_name", "reviewer__employee__email",
    "reviewer__employee__timezone", "reviewer__employee__active", "reviewer__is_active",
)  # fmt: skip


def previous_reviewer(row: tuple) -> Recipient | None:
    """Who asked for changes to an item now submitted again (reviewed before its submission), or None.

    Only a request for changes sends an item back for editing, so a submitted item with an earlier review is a
    resubmission; the reviewer hears of it themselves (`evidence_resubmitted`) instead of a plain review request.
    """
    submitted_at, owner_user_id = row[2], row[5]
    reviewed_at, _comment, reviewer_id = row[12:15]
    active = row[23]
    if reviewer_id is None or reviewed_at is None or not active or reviewer_id == owner_user_id:
        return None
    if submitted_at is None or reviewed_at >= submitted_at:
        return None
    return user_recipient(row[14:23])


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
    kinds: Iterable[str] = (
        ReminderKind.REVIEW_REQUESTED,
        ReminderKind.EVIDENCE_RESUBMITTED,
        ReminderKind.REVIEW_WAITING,
        ReminderKind.ESCALATION,
    ),
    existing: AbstractSet[str] = frozenset(),
) -> list[Planned]:
    """The review reminders of one submitted item at `now` whose key is not in `existing`.

    Reviewers are asked at once (the reviewer who asked for changes, told the item is back), reminded after N days;
    HR is told after M days.
    """
    pk, title, submitted_at, _owner_id, owner_name = row[:5]
    stamp = submission_stamp(submitted_at)
    waited = days_between(submitted_at, now)
    context = {"title": title, "owner": owner_name, "submitted_at": submitted_at.isoformat()}
    wanted = set(kinds)
    steps: list[tuple[str, str, Sequence[Recipient], str]] = []
    if waited < config.review_waiting_days:
        again = previous_reviewer(row)
        reviewers = reviewers_of(row, cx)
        if again is not None:
            reviewers = [p for p in reviewers if p.user_id != again.user_id]
            reason = f"{owner_name} submitted it again after your request for changes"
            steps.append((ReminderKind.EVIDENCE_RESUBMITTED, stamp, [again], reason))
        steps.append((ReminderKind.REVIEW_REQUESTED, stamp, reviewers, f"{owner_name} submitted it"))
    else:
        occasion = f"{stamp}-waited-{config.review_waiting_days}d"
        reason = f"Waiting for review since {submitted_at:%Y-%m-%d} ({plural(int(waited), 'day')})"
        steps.append((ReminderKind.REVIEW_WAITING, occasion, reviewers_of(row, cx), reason))
    if waited >= config.escalation_days:
        occasion = f"{stamp}-waited-{config.escalation_days}d"
        reason = f"Nobody reviewed it in {plural(config.escalation_days, 'day')} (since {submitted_at:%Y-%m-%d})"
        steps.append((ReminderKind.ESCALATION, occasion, hr, reason))
    # The resubmission notice repeats the comment the reviewer wrote, so they see what they asked for.
    extra: dict[str, dict[str, Any]] = {ReminderKind.EVIDENCE_RESUBMITTED: {"comment": (row[13] or "")[:2000]}}
    planned = []
    for kind, occasion, people, reason in steps:
        if kind not in wanted:
            continue
        for person in people:
            # The key first: most items already have their reminders, and building one costs a time-zone lookup.
            if reminder_key(kind, f"evidence-{pk}", person.ref, occasion) in existing:
                continue
            planned.append(
                Planned(
                    kind=kind,
                    object_ref=f"evidence-{pk}",
                    occasion=occasion,
                    recipient=person,
                    due_at=send_time(now, zone(person.timezone), config.hours),
                    reason=f"“{title}”: {reason}"[:300],
                    context={**context, "waited_days": int(waited), **extra.get(kind, {})},
                    evidence_id=pk,
                )
            )
    return planned


def review_candidates(*, now: dt.datetime, config: PlanConfig, hr: Sequence[Recipient]) -> list[Planned]:
    """Review reminders of submitted items that are not in the log yet (three queries)."""
    # Only items whose next step came lately: submitted in the last N days (plus the look-back), or whose M days
    # ran out in the look-back. Older items already have their reminders; the look-back covers a planner stopped
    # for a few days without scanning every item waiting for review on every pass.
    lookback = dt.timedelta(days=config.review_lookback_days)
    waiting_since = now - dt.timedelta(days=config.review_waiting_days) - lookback
    escalated = now - dt.timedelta(days=config.escalation_days)
    submitted = Evidence.objects.filter(status=EvidenceStatus.SUBMITTED).filter(
        Q(submitted_at__gte=waiting_since) | Q(submitted_at__range=(escalated - lookback, escalated))
    )
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
        planned.extend(review_planned(row, now=now, config=config, cx=cx, hr=hr, existing=existing))
    return planned


REVIEW_KINDS = (
    ReminderKind.REVIEW_REQUESTED,
    ReminderKind.EVIDENCE_RESUBMITTED,
    ReminderKind.REVIEW_WAITING,
    ReminderKind.ESCALATION,
)
