"""The planner's reads: every reminder that is due now or later today and not in the log yet, and why.

A fixed number of queries per open cycle (see cycles.py) plus a few for reviews and digests, whatever the number of
cases or people. Nothing here writes: reminders_plan (services) inserts what this returns.
"""

from __future__ import annotations

import datetime as dt

from apps.cases.models import Cycle

from ..recipients import hr_recipients
from .base import PlanConfig, Planned, reminder_key, unmet_rows
from .cycles import cycle_candidates
from .digests import digest_candidates
from .reviews import ITEM_FIELDS, REVIEW_KINDS, review_candidates, review_planned, reviewers_of, submission_stamp

__all__ = [
    "ITEM_FIELDS",
    "REVIEW_KINDS",
    "PlanConfig",
    "Planned",
    "cycle_candidates",
    "digest_candidates",
    "plan_candidates",
    "reminder_key",
    "review_candidates",
    "review_planned",
    "reviewers_of",
    "submission_stamp",
    "unmet_rows",
]


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
