"""The HR home (the admin index): what waits for HR, each a count linking to the admin list that shows it.

Reads only, one query per item whatever the number of rows; an item the viewer may not see in the admin is left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from apps.cases.constants import CaseStatus, ExceptionStatus, StepRole
from apps.cases.models import ApprovalStep, Case, PolicyException, StepRecord
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.reminders.constants import ReminderStatus
from apps.reminders.models import Reminder

# Up to this many rows are linked one by one (`id__in`), so the list shows exactly what was counted; above it the
# link shows the nearest filter the list has.
EXACT_LINK_LIMIT = 100


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


def _ids_link(model: type, base: dict[str, str], ids: list[int]) -> str:
    """The list filtered by `base`, narrowed to exactly `ids` when they are few enough to put in a link."""
    params = dict(base)
    if ids and len(ids) <= EXACT_LINK_LIMIT:
        params["id__in"] = ",".join(str(pk) for pk in sorted(ids))
    return _changelist(model, params)


def exceptions_waiting(*, user: object) -> QuerySet[PolicyException]:
    """Requested exceptions the viewer may grant: every pending one but those the viewer asked for."""
    pending = PolicyException.objects.filter(status=ExceptionStatus.REQUESTED)
    user_id = getattr(user, "pk", None)
    return pending.exclude(requested_by_id=user_id) if user_id is not None else pending


def cases_ready_for_hr() -> QuerySet[Case]:
    """Open cases that meet their policy and wait at the HR step (the default route is HR alone)."""
    decided_orders = StepRecord.objects.filter(case_id=OuterRef(OuterRef("pk"))).values("order")
    route = ApprovalStep.objects.filter(route__ritual_type_id=OuterRef("cycle__ritual_type_id"))
    next_role = route.exclude(order__in=decided_orders).order_by("order").values("role")[:1]
    return (
        Case.objects.filter(status=CaseStatus.OPEN, compliant=True)
        .annotate(
            next_role=Subquery(next_role),
            has_route=Exists(route),
            has_record=Exists(StepRecord.objects.filter(case_id=OuterRef("pk"))),
        )
        .filter(Q(next_role=StepRole.HR) | Q(has_route=False, has_record=False))
    )


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
        ids = list(exceptions_waiting(user=user).values_list("pk", flat=True))
        items.append(
            NeedsYouItem(
                key="exceptions",
                label="Exceptions waiting for a second HR",
                count=len(ids),
                url=_ids_link(PolicyException, {"status__exact": ExceptionStatus.REQUESTED.value}, ids),
                help="Requested by someone else; grant or refuse them with a written note.",
            )
        )
    if _can_view(user, Case):
        ids = list(cases_ready_for_hr().values_list("pk", flat=True))
        items.append(
            NeedsYouItem(
                key="cases",
                label="Cases ready to approve",
                count=len(ids),
                url=_ids_link(Case, {"status__exact": CaseStatus.OPEN.value, "compliant": "yes"}, ids),
                help="Open, meeting their policy, and waiting at the HR step.",
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
                url=_changelist(Reminder, {"status__exact": ReminderStatus.FAILED.value}),
                help='Not retried by themselves: fix the address or the mail server, then use "Send again now".',
            )
        )
    return items
