"""Reads of the units' inboxes: who sees which unit, one unit's insights a page at a time, one routed insight.

A unit's inbox is read by its members (employees whose org unit it is), by the managers of any member at any level
above them, and by HR. Everyone else learns nothing: a route they may not see is a 404, like a missing one.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from apps.common.roles import is_hr
from apps.evidence.models import Evidence
from apps.evidence.permissions import employee_of, evidence_visible_to
from apps.org.models import Employee, OrgUnit, OrgUnitQuerySet, Touchpoint
from apps.org.selectors import reports_subtree_sql

from .constants import ScoreBand
from .models import InsightRoute, InsightRouteQuerySet

# Score bands on the 0-10 scale: low 0-6, middle 7-8, high 9-10 (a score of 6.5 is low, 8.5 middle).
SCORE_BAND_FILTERS: dict[str, Q] = {
    ScoreBand.LOW: Q(insight__score__lt=7),
    ScoreBand.MIDDLE: Q(insight__score__gte=7, insight__score__lt=9),
    ScoreBand.HIGH: Q(insight__score__gte=9),
    ScoreBand.NONE: Q(insight__score__isnull=True),
}

# What a row of the inbox shows besides the route itself.
ROW_RELATIONS = ("insight", "insight__touchpoint", "insight__from_unit", "taken_by")


def inbox_units_for(user: object) -> OrgUnitQuerySet:
    """The units whose inbox `user` may read, by name: HR every active unit; others their own unit and the units of
    everyone they manage at any depth (one query, whatever the size of the tree)."""
    if is_hr(user):
        return OrgUnit.objects.active().order_by("name", "id")
    employee = employee_of(user)
    if employee is None:
        return OrgUnit.objects.none()
    managed = Employee.objects.filter(pk__in=reports_subtree_sql(employee.pk)).values("org_unit_id")
    return OrgUnit.objects.filter(Q(pk=employee.org_unit_id) | Q(pk__in=managed)).order_by("name", "id")


def inbox_routes_visible_to(user: object) -> InsightRouteQuerySet:
    """Every route `user` may see (the rows of the inboxes they may read)."""
    if is_hr(user):
        return InsightRoute.objects.all()
    if employee_of(user) is None:
        return InsightRoute.objects.none()
    return InsightRoute.objects.filter(unit_id__in=inbox_units_for(user).values("pk"))


def can_read_inbox(user: object, unit_id: int) -> bool:
    """May `user` read this unit's inbox?"""
    if is_hr(user):
        return True
    employee = employee_of(user)
    if employee is None:
        return False
    return employee.org_unit_id == unit_id or inbox_units_for(user).filter(pk=unit_id).exists()


def manages_unit(user: object, unit_id: int) -> bool:
    """Is `user` HR, or a manager (at any level) of someone in the unit? Such people may reopen closed insights."""
    if is_hr(user):
        return True
    employee = employee_of(user)
    if employee is None:
        return False
    return Employee.objects.filter(org_unit_id=unit_id, pk__in=reports_subtree_sql(employee.pk)).exists()


def inbox_unit_get(*, user: object, unit_id: int | None) -> OrgUnit | None:
    """The unit whose inbox to show: the one asked for (404 if the user may not read it), else the user's own unit,
    else the first they may read (None when there is none)."""
    units = inbox_units_for(user)
    if unit_id is not None:
        unit = units.filter(pk=unit_id).first()
        if unit is None:
            raise Http404("No such inbox.")
        return unit
    employee = employee_of(user)
    if employee is not None:
        own = units.filter(pk=employee.org_unit_id).first()
        if own is not None:
            return own
    return units.first()


def inbox_list(
    *,
    unit: OrgUnit,
    status: str | None = None,
    channel: str | None = None,
    touchpoint: Touchpoint | None = None,
    score_band: str | None = None,
) -> InsightRouteQuerySet:
    """One unit's inbox, newest first (the order of the (unit, status, said_on, id) indexes), with what a row shows."""
    queryset = InsightRoute.objects.filter(unit=unit).select_related(*ROW_RELATIONS).order_by("-said_on", "-id")
    if status:
        queryset = queryset.filter(status=status)
    if channel:
        queryset = queryset.filter(insight__channel=channel)
    if touchpoint is not None:
        queryset = queryset.filter(insight__touchpoint=touchpoint)
    if score_band:
        queryset = queryset.filter(SCORE_BAND_FILTERS[score_band])
    return queryset


def inbox_route_get(*, user: object, pk: int) -> InsightRoute:
    """One routed insight with what its page shows, or 404 when the user may not see it (one query decides and
    loads)."""
    route = (
        inbox_routes_visible_to(user)
        .select_related(
            "unit",
            "rule",
            "taken_by",
            "insight__touchpoint",
            "insight__journey_stage",
            "insight__from_unit",
            "insight__raised_by",
        )
        .filter(pk=pk)
        .first()
    )
    if route is None:
        raise Http404("No such insight in an inbox you can read.")
    return route


def route_responses(*, user: object, route: InsightRoute) -> list[tuple[Evidence, bool]]:
    """The evidence items responding to a route, oldest first, each with whether `user` may open it (two queries)."""
    responses = list(route.responses.select_related("owner").order_by("created_at", "id"))
    visible = set(evidence_visible_to(user, Evidence.objects.filter(responds_to=route)).values_list("pk", flat=True))
    return [(evidence, evidence.pk in visible) for evidence in responses]
