"""The weekly digest to each manager whose direct reports have open cases or items waiting for review."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q

from apps.cases.models import Case
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.org.models import Employee

from ..constants import ReminderKind
from ..models import Reminder, ReminderPreference
from ..recipients import Recipient
from ..timing import digest_week, iso_week, local_date, send_time, zone
from .base import ONE_DAY, PlanConfig, Planned, plural


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
            reason=f"Weekly digest {week}: {plural(open_cases.get(pk, 0), 'open case')} in the team, "
            f"{plural(waiting.get(pk, 0), 'item')} waiting for review",
            context={"week": week},
        )
        if item.key not in existing:
            planned.append(item)
    return planned


def _days_around(now: dt.datetime) -> tuple[dt.date, ...]:
    today = now.astimezone(dt.UTC).date()
    return (today - ONE_DAY, today, today + ONE_DAY)
