"""When reminders are due: occasions and sending hours in the recipient's time zone (pure: no ORM, no clock)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class SendingHours:
    """The local hours mail may go out: from `start` (inclusive) to `end` (exclusive), e.g. 9 to 18."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end <= 24):
            raise ValueError(f"Sending hours must satisfy 0 <= start < end <= 24 (got {self.start}-{self.end}).")


@lru_cache(maxsize=512)
def zone(name: str, fallback: str = "UTC") -> zoneinfo.ZoneInfo:
    """The ZoneInfo of an IANA name; the fallback for an empty or unknown name."""
    try:
        return zoneinfo.ZoneInfo(name or fallback)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(fallback)


def local_date(now: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    """The recipient's calendar day at the instant `now`."""
    return now.astimezone(tz).date()


def send_time(now: dt.datetime, tz: zoneinfo.ZoneInfo, hours: SendingHours) -> dt.datetime:
    """The first instant at or after `now` that falls within the recipient's sending hours (UTC)."""
    local = now.astimezone(tz)
    if hours.start <= local.hour < hours.end:
        return now
    day = local.date() if local.hour < hours.start else local.date() + dt.timedelta(days=1)
    opening = dt.datetime.combine(day, dt.time(hours.start), tzinfo=tz)
    return opening.astimezone(dt.UTC)


def evidence_due_offset(*, today: dt.date, deadline: dt.date, offsets: Sequence[int], opened_on: dt.date) -> int | None:
    """The offset (days before the deadline) whose reminder is current on `today`, or None.

    The current occasion is the latest one on or before today, so a planner that missed a day still sends it, and
    one that missed several sends only the latest. Nothing before the first occasion, after the deadline, or for
    an occasion that came before the case was opened.
    """
    if today > deadline:
        return None
    passed = [offset for offset in offsets if deadline - dt.timedelta(days=offset) <= today]
    if not passed:
        return None
    offset = min(passed)
    if deadline - dt.timedelta(days=offset) < opened_on:
        return None
    return offset


def iso_week(day: dt.date) -> str:
    """The ISO week of a day, e.g. '2026-W48': the occasion of a weekly digest."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_week(today: dt.date, weekday: int) -> str | None:
    """The week whose digest is current on `today` (from the digest weekday to Sunday), or None before it."""
    return iso_week(today) if today.weekday() >= weekday else None


def days_between(start: dt.datetime, end: dt.datetime) -> float:
    """Elapsed days between two instants."""
    return (end - start).total_seconds() / 86400
