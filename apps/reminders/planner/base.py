"""What the planner plans: the rules from settings, one planned reminder, its unique key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.policies.engine import Evaluation

from ..recipients import Recipient
from ..timing import SendingHours

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PlanConfig:
    """The planner's rules, from settings."""

    hours: SendingHours
    review_waiting_days: int
    escalation_days: int
    digest_weekday: int
    evaluate_batch: int = 5_000
    plan_every: int = 300
    review_lookback_days: int = 3
    # Items and short cases a batch or an HR digest lists by name (the rest are counted).
    listed: int = 50

    @classmethod
    def from_settings(cls) -> PlanConfig:
        return cls(
            hours=SendingHours(settings.REMINDERS_SEND_START_HOUR, settings.REMINDERS_SEND_END_HOUR),
            review_waiting_days=settings.REMINDERS_REVIEW_WAITING_DAYS,
            escalation_days=settings.REMINDERS_ESCALATION_DAYS,
            digest_weekday=settings.REMINDERS_DIGEST_WEEKDAY,
            evaluate_batch=max(1, settings.REMINDERS_EVALUATE_BATCH),
            plan_every=max(1, settings.REMINDERS_PLAN_EVERY),
            review_lookback_days=settings.REMINDERS_REVIEW_LOOKBACK_DAYS,
            listed=max(1, settings.REMINDERS_DIGEST_LISTED),
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


def unmet_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The unmet requirements of an evaluation as the e-mails show them."""
    return [{"label": r.label, "have": r.have, "need": r.need, "reason": r.reason} for r in evaluation.unmet]


def company_midnight(day: dt.date) -> dt.datetime:
    """The instant a company day starts (midnight in TIME_ZONE): deadlines and daily batches count in these days."""
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_default_timezone())


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
