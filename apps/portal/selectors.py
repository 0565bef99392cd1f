"""Reads for the portal pages: each list is one count and one page query, whatever its length."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count
from django.http import Http404

from apps.common.roles import is_cx_reviewer, is_hr, is_leadership
from apps.evidence.models import Attachment, Evidence, EvidenceQuerySet
from apps.evidence.permissions import employee_of, evidence_visible_to, review_queue_for
from apps.org.models import Employee
from apps.policies.models import EvidenceCategory
from apps.reminders.selectors import notification_unread_count


@dataclass(frozen=True, slots=True)
class Nav:
    """What the navigation bar shows for a signed-in user."""

    name: str
    roles: tuple[str, ...]
    has_employee: bool
    reviews: bool
    is_staff: bool
    unread: int = 0


def nav_for(user: object) -> Nav:
    """The user's display name, role labels and which sections they use.

    A view that needs it computes it once and puts it in its context as `nav`, where the navigation bar finds it.
    """
    employee = employee_of(user)
    hr, cx = is_hr(user), is_cx_reviewer(user)
    manages = employee is not None and not (hr or cx) and Employee.objects.filter(manager_id=employee.pk).exists()
    roles = [
        label
        for label, held in (
            ("HR", hr),
            ("CX reviewer", cx),
            ("Manager", manages),
            ("Leadership", is_leadership(user)),
        )
        if held
    ]
    if employee is not None and not roles:
        roles.append("Employee")
    name = employee.full_name if employee is not None else (user.get_full_name() or user.get_username())  # type: ignore[attr-defined]
    return Nav(
        name=name,
        roles=tuple(roles),
        has_employee=employee is not None,
        reviews=hr or cx or manages,
        is_staff=bool(getattr(user, "is_staff", False)),
        unread=unread_notifications(user),
    )


# Where `unread_notifications` keeps its count on the request's user object, which lives as long as the request.
UNREAD_ATTRIBUTE = "portal_unread_notifications"


def unread_notifications(user: object) -> int:
    """The bell's number: the user's unread notifications, counted once per request (one COUNT query).

    Kept on the user object of the request, so the navigation bar and a view asking again cost no second query;
    a view that marks notifications read calls `forget_unread_notifications` before the page is drawn.
    """
    cached = getattr(user, UNREAD_ATTRIBUTE, None)
    if isinstance(cached, int):
        return cached
    count = notification_unread_count(user=user)
    setattr(user, UNREAD_ATTRIBUTE, count)
    return count


def forget_unread_notifications(user: object) -> None:
    """Drop the request's count (after marking notifications read), so the bell counts again."""
    if hasattr(user, UNREAD_ATTRIBUTE):
        delattr(user, UNREAD_ATTRIBUTE)


def my_evidence_list(
    *, employee: Employee, status: str | None = None, category: EvidenceCategory | None = None
) -> EvidenceQuerySet:
    """An employee's current items, most recently changed first, with what each row shows."""
    queryset = (
        Evidence.objects.current()
        .filter(owner=employee)
        .select_related("category", "reviewer")
        .annotate(attachment_count=Count("attachments"))
        .order_by("-updated_at", "-id")
    )
    if status:
        queryset = queryset.filter(status=status)
    if category is not None:
        queryset = queryset.filter(category=category)
    return queryset


def review_queue_list(
    *, user: object, category: EvidenceCategory | None = None, flagged_only: bool = False
) -> EvidenceQuerySet:
    """Submitted items the user may review, oldest submission first."""
    queryset = review_queue_for(user).select_related("owner__org_unit", "category").order_by("submitted_at", "id")
    if category is not None:
        queryset = queryset.filter(category=category)
    if flagged_only:
        queryset = queryset.exclude(gaming_flags=[])
    return queryset


def evidence_get_visible(*, user: object, pk: int) -> Evidence:
    """One item with everything its page shows, or 404 when the user may not see it (no hint that it exists)."""
    queryset = evidence_visible_to(user).select_related(
        "owner__org_unit",
        "category",
        "reviewer",
        "internal_customer_unit",
        "touchpoint",
        "previous",
        "correction",
        "created_by",
    )
    # evidence_visible_to is the SQL form of can_view: one query decides and loads.
    evidence = queryset.filter(pk=pk).first()
    if evidence is None:
        raise Http404("No such evidence.")
    return evidence


def attachment_get_visible(*, user: object, pk: int) -> Attachment:
    """An attachment whose evidence the user may see, or 404: one query decides and loads, so a hidden file costs
    what a missing one does (its existence does not show in the answer's time)."""
    visible = evidence_visible_to(user, Evidence.objects.all())
    attachment = Attachment.objects.select_related("evidence").filter(pk=pk, evidence__in=visible).first()
    if attachment is None:
        raise Http404("No such file.")
    return attachment
