"""The weekly customer-insight digest: once per unit and ISO week, what its customers said and what is still open.

Each unit with something to say (insights routed to it in the last seven days, or insights still open in its inbox)
gets one digest a week for each of its managers and each member who asked for it (a reminder preference with the
weekly digest on; members are not opted in by default). Managers receive it unless they turned the weekly digest
off. The digests are reminder rows under the unique key `insights_digest:unit-<id>:<recipient>:<ISO week>`, so a
second planner pass, a second beat or a retried task adds nothing; the reminder machinery sends each in its
recipient's sending hours.

A unit's managers are read from the manager links (apps.org has no "head of unit"): the members who manage other
members of the unit (its head, when the unit is led from inside), else the managers outside the unit its members
report to. Members who are managers get it as managers; the others only when they asked for it.

The reminders app never reads an insight (insights sit above it), so everything the e-mail shows is gathered here,
when the digest is planned, and kept in the reminder's context: counts, the five newest insights with links.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from apps.org.models import Employee
from apps.reminders.constants import ReminderKind
from apps.reminders.models import ReminderPreference
from apps.reminders.notify import write_planned
from apps.reminders.planner import PlanConfig, Planned
from apps.reminders.recipients import Recipient, default_timezone
from apps.reminders.timing import digest_week, send_time, zone

from .constants import OPEN_STATUSES, Channel, InboxStatus
from .models import InsightRoute

# How many insights a digest names (the newest); the rest are counted.
DIGEST_LISTED = 5
# "New this week": routed to the unit within this many days before the planner's pass.
NEW_WITHIN = dt.timedelta(days=7)
EXCERPT_LENGTH = 200


@dataclass(slots=True)
class UnitNews:
    """What one unit's digest says."""

    unit_id: int
    name: str
    new_count: int
    open_count: int
    newest: list[dict[str, Any]]


def _score(score: Any) -> str | None:
    """A 0-10 score as people write it: "2", "7.5"."""
    if score is None:
        return None
    text = f"{score:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _excerpt(text: str, score: Any) -> str:
    words = " ".join(text.split())
    if not words:
        return f"(a score of {_score(score)} without words)" if score is not None else "(no words)"
    return words if len(words) <= EXCERPT_LENGTH else f"{words[: EXCERPT_LENGTH - 1]}…"


def _site(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def units_with_news(*, now: dt.datetime) -> dict[int, UnitNews]:
    """Units with insights new in the last seven days or still open, with their counts and five newest (two
    queries whatever the number of units)."""
    since = now - NEW_WITHIN
    relevant = InsightRoute.objects.filter(Q(routed_at__gte=since) | Q(status__in=OPEN_STATUSES))
    counts = (
        relevant.order_by()
        .values("unit_id", "unit__name")
        .annotate(
            new=Count("pk", filter=Q(routed_at__gte=since)),
            open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        )
    )
    news = {row["unit_id"]: UnitNews(row["unit_id"], row["unit__name"], row["new"], row["open"], []) for row in counts}
    if not news:
        return news
    newest = (
        relevant.annotate(
            rank=Window(RowNumber(), partition_by=[F("unit_id")], order_by=[F("said_on").desc(), F("id").desc()])
        )
        .filter(rank__lte=DIGEST_LISTED)
        .order_by("unit_id", "rank")
        .values_list(
            "pk", "unit_id", "insight__text", "insight__score", "insight__channel", "insight__touchpoint__name",
            "said_on", "status",
        )
    )  # fmt: skip
    channels, statuses = dict(Channel.choices), dict(InboxStatus.choices)
    for pk, unit_id, text, score, channel, touchpoint, said_on, status in newest:
        news[unit_id].newest.append(
            {
                "text": _excerpt(text, score),
                "score": _score(score),
                "channel": str(channels.get(channel, channel)),
                "touchpoint": touchpoint or "",
                "said_on": said_on.isoformat(),
                "status": str(statuses.get(status, status)),
                "url": _site(reverse("portal:inbox-route", args=[pk])),
            }
        )
    return news


def _recipients(unit_ids: list[int]) -> dict[int, list[tuple[Recipient, bool]]]:
    """Per unit, who gets its digest and whether as a manager (two queries)."""
    opted_in = ReminderPreference.objects.filter(employee_id=OuterRef("pk"), weekly_digest=True)
    members = list(
        Employee.objects.filter(org_unit_id__in=unit_ids, active=True)
        .annotate(wants=Exists(opted_in))
        .values_list("pk", "org_unit_id", "manager_id", "full_name", "email", "timezone", "wants")
    )
    member_ids: dict[int, set[int]] = defaultdict(set)
    for pk, unit_id, *_ in members:
        member_ids[unit_id].add(pk)
    managers_of: dict[int, set[int]] = defaultdict(set)
    for _pk, unit_id, manager_id, *_ in members:
        if manager_id is not None:
            managers_of[unit_id].add(manager_id)
    for unit_id, ids in managers_of.items():
        # A unit led from inside (its head is a member who manages the others) is told through its head, not
        # through the head's own manager; a unit whose members all report outside it, through those managers.
        inside = ids & member_ids[unit_id]
        if inside:
            managers_of[unit_id] = inside
    opted_out = ReminderPreference.objects.filter(employee_id=OuterRef("pk"), weekly_digest=False)
    manager_rows = {
        row[0]: row
        for row in Employee.objects.filter(pk__in={m for ids in managers_of.values() for m in ids}, active=True)
        .exclude(Exists(opted_out))
        .values_list("pk", "full_name", "email", "timezone")
    }

    def person(pk: int, name: str, email: str, tz: str) -> Recipient:
        return Recipient(email=email, name=name or email, timezone=tz or default_timezone(), employee_id=pk)

    found: dict[int, list[tuple[Recipient, bool]]] = defaultdict(list)
    for unit_id, ids in managers_of.items():
        for manager_id in sorted(ids):
            row = manager_rows.get(manager_id)
            if row is not None and row[2]:
                found[unit_id].append((person(*row), True))
    for pk, unit_id, _manager, name, email, tz, wants in members:
        if wants and email and pk not in managers_of[unit_id]:
            found[unit_id].append((person(pk, name, email, tz), False))
    return found


def insights_digest_planned(*, now: dt.datetime, config: PlanConfig | None = None) -> list[Planned]:
    """The digests of the current week (four queries), before the unique keys sort out which are new.

    Nothing before the week's digest day (REMINDERS_DIGEST_WEEKDAY, in the company's time zone), so that "this
    week" has a week's news in it.
    """
    config = config or PlanConfig.from_settings()
    week = digest_week(timezone.localdate(now), config.digest_weekday)
    if week is None:
        return []
    news = units_with_news(now=now)
    if not news:
        return []
    planned = []
    for unit_id, people in _recipients(sorted(news)).items():
        unit = news[unit_id]
        inbox_path = f"{reverse('portal:inbox')}?unit={unit_id}"
        context = {
            "week": week,
            "unit": unit.name,
            "unit_id": unit_id,
            "new_count": unit.new_count,
            "open_count": unit.open_count,
            "insights": unit.newest,
            "inbox_path": inbox_path,
            "inbox_url": _site(inbox_path),
        }
        for recipient, as_manager in people:
            planned.append(
                Planned(
                    kind=ReminderKind.INSIGHTS_DIGEST,
                    object_ref=f"unit-{unit_id}",
                    occasion=week,
                    recipient=recipient,
                    due_at=send_time(now, zone(recipient.timezone), config.hours),
                    reason=f"Customer insights {week} of {unit.name}: {unit.new_count} new, {unit.open_count} open",
                    context={**context, "as_manager": as_manager},
                )
            )
    return planned


@transaction.atomic(durable=True)
def insights_digest_plan(*, now: dt.datetime | None = None) -> int:
    """Write this week's insight digests that are not written yet; return how many were new.

    Idempotent: the reminder's unique key (unit, recipient, ISO week) decides, so beat may run it as often as it
    likes. The due ones are handed to the sender after commit; the rest wait for their recipient's sending hours.
    """
    now = now or timezone.now()
    return len(write_planned(insights_digest_planned(now=now), now))
