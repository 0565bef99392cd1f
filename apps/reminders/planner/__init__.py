"""The planner's reads: every reminder that is due now or later today and not in the log yet, and why.

A pass covers every open case of every open cycle in its reminder period, chunk by chunk (eight queries a chunk of
REMINDERS_EVALUATE_BATCH cases: see cycles.py), plus a few queries for submissions, the reviewers' and HR's daily
batches (daily.py) and the weekly digests. Nothing here writes: reminders_plan (services) inserts each batch this
yields before the next is read, so memory holds one chunk at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from apps.cases.models import Cycle

from ..recipients import cx_reviewers, hr_recipients
from .base import PlanConfig, Planned, reminder_key, unmet_rows
from .cycles import ShortCases, cycle_batches
from .daily import CycleShort, deadlines_passed, hr_digests, hr_windows, is_batch, review_batches
from .digests import digest_candidates
from .reviews import (
    ITEM_FIELDS,
    REVIEW_KINDS,
    SUBMISSION_KINDS,
    review_candidates,
    review_planned,
    reviewers_of,
    submission_stamp,
)

__all__ = [
    "ITEM_FIELDS",
    "REVIEW_KINDS",
    "SUBMISSION_KINDS",
    "PlanConfig",
    "Planned",
    "cycle_batches",
    "digest_candidates",
    "is_batch",
    "plan_batches",
    "plan_candidates",
    "reminder_key",
    "review_candidates",
    "review_planned",
    "reviewers_of",
    "submission_stamp",
    "unmet_rows",
]


def plan_batches(*, now: dt.datetime, config: PlanConfig | None = None) -> Iterator[list[Planned]]:
    """The reminders a pass writes, in batches: each chunk of each cycle's cases, then the daily and weekly ones.

    The HR digest comes after every cycle was covered, since it lists the short cases of cycles whose deadline
    passed in its window (those cycles are evaluated whole, chunk by chunk, in the same pass).
    """
    config = config or PlanConfig.from_settings()
    hr = hr_recipients()
    windows = hr_windows(now=now, config=config, hr=hr)
    passed: list[tuple[Cycle, str, dt.date, ShortCases]] = []
    for cycle in Cycle.objects.open().order_by("pk"):
        deadlines = deadlines_passed(cycle, windows.values())
        short = ShortCases() if deadlines else None
        yield from cycle_batches(cycle=cycle, now=now, config=config, short=short)
        if short is not None:
            passed.extend((cycle, occasion, day, short) for occasion, day in deadlines)
    cx = cx_reviewers()
    yield review_candidates(now=now, config=config, cx=cx)
    yield review_batches(now=now, config=config, cx=cx)
    cycles = [CycleShort(cycle, occasion, day, short.summary()) for cycle, occasion, day, short in passed]
    yield hr_digests(now=now, config=config, hr=hr, windows=windows, cycles=cycles)
    yield digest_candidates(now=now, config=config)


def plan_candidates(*, now: dt.datetime, config: PlanConfig | None = None) -> list[Planned]:
    """Every reminder due now or later today that is not in the log yet, as one list (the dry run, the demo)."""
    return [item for batch in plan_batches(now=now, config=config) for item in batch]
