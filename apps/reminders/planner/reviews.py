"""Review notices per item: reviewers asked at once when an item is submitted (or submitted again).

Later steps are daily batches (`planner.daily`): each reviewer's items waiting N days, HR's items waiting M days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence

from ..constants import ReminderKind
from ..models import Reminder
from ..recipients import Recipient, user_recipient
from ..timing import days_between, send_time, zone
from .base import PlanConfig, Planned, reminder_key

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


# What a submission asks at once: reviewers to review it; after a request for changes, that reviewer to look again.
SUBMISSION_KINDS = (ReminderKind.REVIEW_REQUESTED, ReminderKind.EVIDENCE_RESUBMITTED)


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
    kinds: Iterable[str] = SUBMISSION_KINDS,
    existing: AbstractSet[str] = frozenset(),
) -> list[Planned]:
    """The notices of one submitted item's submission at `now` whose key is not in `existing`.

    Reviewers are asked at once (the reviewer who asked for changes is told the item is back), while the item has
    waited less than REMINDERS_REVIEW_WAITING_DAYS; after that, the reviewers' and HR's daily batches list it
    (`planner.daily`).
    """
    pk, title, submitted_at, _owner_id, owner_name = row[:5]
    stamp = submission_stamp(submitted_at)
    waited = days_between(submitted_at, now)
    if waited >= config.review_waiting_days:
        return []
    context = {"title": title, "owner": owner_name, "submitted_at": submitted_at.isoformat()}
    wanted = set(kinds)
    steps: list[tuple[str, Sequence[Recipient], str]] = []
    again = previous_reviewer(row)
    reviewers = reviewers_of(row, cx)
    if again is not None:
        reviewers = [p for p in reviewers if p.user_id != again.user_id]
        steps.append(
            (
                ReminderKind.EVIDENCE_RESUBMITTED,
                [again],
                f"{owner_name} submitted it again after your request for changes",
            )
        )
    steps.append((ReminderKind.REVIEW_REQUESTED, reviewers, f"{owner_name} submitted it"))
    # The resubmission notice repeats the comment the reviewer wrote, so they see what they asked for.
    extra: dict[str, dict[str, Any]] = {ReminderKind.EVIDENCE_RESUBMITTED: {"comment": (row[13] or "")[:2000]}}
    planned = []
    for kind, people, reason in steps:
        if kind not in wanted:
            continue
        for person in people:
            # The key first: most items already have their reminders, and building one costs a time-zone lookup.
            if reminder_key(kind, f"evidence-{pk}", person.ref, stamp) in existing:
                continue
            planned.append(
                Planned(
                    kind=kind,
                    object_ref=f"evidence-{pk}",
                    occasion=stamp,
                    recipient=person,
                    due_at=send_time(now, zone(person.timezone), config.hours),
                    reason=f"“{title}”: {reason}"[:300],
                    context={**context, "waited_days": int(waited), **extra.get(kind, {})},
                    evidence_id=pk,
                )
            )
    return planned


def review_candidates(*, now: dt.datetime, config: PlanConfig, cx: Sequence[Recipient]) -> list[Planned]:
    """Submission notices the evidence drain did not write (a lost event): items submitted in the last N days (two
    queries; the CX reviewers are read by the caller)."""
    submitted = Evidence.objects.filter(
        status=EvidenceStatus.SUBMITTED, submitted_at__gte=now - dt.timedelta(days=config.review_waiting_days)
    )
    rows = list(submitted.order_by("pk").values_list(*ITEM_FIELDS))
    if not rows:
        return []
    existing = set(
        Reminder.objects.filter(evidence__in=submitted.values("pk"), kind__in=SUBMISSION_KINDS)
        .values_list("key", flat=True)
        .iterator()
    )
    planned = []
    for row in rows:
        planned.extend(review_planned(row, now=now, config=config, cx=cx, existing=existing))
    return planned


REVIEW_KINDS = (
    ReminderKind.REVIEW_REQUESTED,
    ReminderKind.EVIDENCE_RESUBMITTED,
    ReminderKind.REVIEW_WAITING,
    ReminderKind.ESCALATION,
)
