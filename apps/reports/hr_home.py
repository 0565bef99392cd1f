"""The HR home (the admin index): what waits for HR, each a count linking to the admin list that shows it.

Reads only, one query per item whatever the number of rows; an item the viewer may not see in the admin is left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from apps.cases.constants import ExceptionStatus, StepRole
from apps.cases.models import Case, PolicyException
from apps.cases.selectors import approvable_q, cases_waiting_for_role
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.reminders.constants import ReminderStatus
from apps.reminders.models import Reminder


@dataclass(frozen=True, slots=True)
class NeedsYouItem:
    """One line of the "needs you" panel: how many, what they are, and where to act on them."""

    key: str
    label: str
    count: int
    url: str
    help: str


def _changelist(model: type, params: dict[str, str]) -> str:
    opts = model._meta  # type: ignore[attr-defined]
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?" + urlencode(params)


def _can_view(user: object, model: type) -> bool:
    opts = model._meta  # type: ignore[attr-defined]
    has_perm = getattr(user, "has_perm", None)
    if has_perm is None:
        return False
    return bool(has_perm(f"{opts.app_label}.view_{opts.model_name}")) or bool(
        has_perm(f"{opts.app_label}.change_{opts.model_name}")
    )


def exceptions_waiting(*, user: object) -> QuerySet[PolicyException]:
    """Requested exceptions the viewer may grant: every pending one but those the viewer asked for."""
    pending = PolicyException.objects.filter(status=ExceptionStatus.REQUESTED)
    user_id = getattr(user, "pk", None)
    return pending.exclude(requested_by_id=user_id) if user_id is not None else pending


def cases_ready_for_hr() -> QuerySet[Case]:
    """Open cases that meet their policy or hold a granted exception, and wait at the HR step (the default route is
    HR alone)."""
    return cases_waiting_for_role(Case.objects.filter(approvable_q()), StepRole.HR)


def reviews_overdue(*, now: dt.datetime) -> tuple[QuerySet[Evidence], dict[str, str]]:
    """Current items submitted longer ago than the review SLA (REPORTS_REVIEW_OVERDUE_DAYS), and their list filter."""
    cutoff = now - dt.timedelta(days=settings.REPORTS_REVIEW_OVERDUE_DAYS)
    params = {
        "status__exact": EvidenceStatus.SUBMITTED.value,
        "is_current__exact": "1",
        "submitted_at__lt": cutoff.isoformat(),
    }
    queryset = Evidence.objects.filter(status=EvidenceStatus.SUBMITTED, is_current=True, submitted_at__lt=cutoff)
    return queryset, params


def needs_you(*, user: object, now: dt.datetime | None = None) -> list[NeedsYouItem]:
    """What waits for HR, for the admin index: at most one query per item."""
    now = now or timezone.now()
    items: list[NeedsYouItem] = []
    if _can_view(user, PolicyException):
        items.append(
            NeedsYouItem(
                key="exceptions",
                label="Exceptions waiting for a second HR",
                count=exceptions_waiting(user=user).count(),
                url=_changelist(PolicyException, {"decision": "waiting", "requested_by": "others"}),
                help="Requested by someone else; grant or refuse them with a written note.",
            )
        )
    if _can_view(user, Case):
        items.append(
            NeedsYouItem(
                key="cases",
                label="Cases ready to approve",
                count=cases_ready_for_hr().count(),
                url=_changelist(Case, {"compliant": "ready", "waiting_for": StepRole.HR.value}),
                help="Open, meeting their policy or holding a granted exception, and waiting at the HR step.",
            )
        )
    if _can_view(user, Evidence):
        overdue, params = reviews_overdue(now=now)
        items.append(
            NeedsYouItem(
                key="reviews",
                label="Reviews overdue",
                count=overdue.count(),
                url=_changelist(Evidence, params),
                help=f"Evidence submitted more than {settings.REPORTS_REVIEW_OVERDUE_DAYS} days ago and not reviewed.",
            )
        )
    if _can_view(user, Reminder):
        items.append(
            NeedsYouItem(
                key="reminders",
                label="Reminders that failed",
                count=Reminder.objects.filter(status=ReminderStatus.FAILED).count(),
                url=_changelist(Reminder, {"needs_hr": ReminderStatus.FAILED.value}),
                help='Refused by the mail server: fix the address or the server, then use "Send again now".',
            )
        )
        items.append(
            NeedsYouItem(
                key="uncertain",
                label="Reminders possibly sent",
                count=Reminder.objects.filter(status=ReminderStatus.UNCERTAIN).count(),
                url=_changelist(Reminder, {"needs_hr": ReminderStatus.UNCERTAIN.value}),
                help="No definite answer after every retry: ask the person before sending again (same Message-ID).",
            )
        )
    return items
