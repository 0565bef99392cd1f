"""The timing rules on their own (no database): sending hours in the recipient's zone, occasions, digest weeks."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.reminders.timing import SendingHours, digest_week, evidence_due_offset, send_time, zone

UTC = dt.UTC
HOURS = SendingHours(9, 18)
PARIS = zone("Europe/Paris")


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-06 08:00", "2026-11-06 08:00"),  # 09:00 in Paris: now
        ("2026-11-06 16:59", "2026-11-06 16:59"),  # 17:59: still now
        ("2026-11-06 17:00", "2026-11-07 08:00"),  # 18:00: tomorrow 09:00
        ("2026-11-06 02:00", "2026-11-06 08:00"),  # 03:00: this morning 09:00
        ("2026-03-29 05:00", "2026-03-29 07:00"),  # the night clocks go forward: 09:00 is 07:00 UTC
    ],
)
def test_send_time_is_now_within_sending_hours_else_the_next_local_opening(now, expected):
    assert send_time(utc(now), PARIS, HOURS) == utc(expected)


def test_unknown_or_empty_time_zones_fall_back_to_utc():
    assert zone("Mars/Olympus_Mons") == zone("UTC") == zone("")


def test_sending_hours_must_be_a_sensible_range():
    with pytest.raises(ValueError, match="0 <= start < end <= 24"):
        SendingHours(18, 9)


DEADLINE = dt.date(2026, 11, 20)
OPENED = dt.date(2026, 10, 1)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2026-11-05", None),  # before the first occasion
        ("2026-11-06", 14),
        ("2026-11-12", 14),  # still the 14-day occasion (already sent, so nothing new)
        ("2026-11-13", 7),
        ("2026-11-19", 1),
        ("2026-11-20", 1),  # deadline day: the 1-day reminder is the current one
        ("2026-11-21", None),  # after the deadline: escalation, not reminders
    ],
)
def test_the_current_occasion_is_the_latest_offset_reached(today, expected):
    day = dt.date.fromisoformat(today)
    assert evidence_due_offset(today=day, deadline=DEADLINE, offsets=[14, 7, 1], opened_on=OPENED) == expected


def test_an_occasion_before_the_case_opened_is_skipped():
    opened_late = dt.date(2026, 11, 10)

    assert evidence_due_offset(today=opened_late, deadline=DEADLINE, offsets=[14, 7, 1], opened_on=opened_late) is None
    assert (
        evidence_due_offset(today=dt.date(2026, 11, 13), deadline=DEADLINE, offsets=[14, 7, 1], opened_on=opened_late)
        == 7
    )


def test_the_digest_week_starts_on_the_digest_weekday():
    monday, sunday = dt.date(2026, 11, 9), dt.date(2026, 11, 8)

    assert digest_week(monday, 0) == "2026-W46"
    assert digest_week(sunday, 0) == "2026-W45"
    assert digest_week(monday, 2) is None  # a Wednesday digest is not due on Monday
