"""The unit's inbox: the list of what its customers said, one insight with what people can do about it, closing with
no action (with a confirmation), and "Tell another group" for internal customers."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.common.errors import InvalidTransition
from apps.common.roles import is_hr
from apps.common.users import signed_in_user
from apps.evidence.permissions import employee_of
from apps.insights.constants import OPEN_STATUSES, InboxStatus
from apps.insights.inbox import (
    inbox_close_no_action,
    inbox_release,
    inbox_reopen,
    inbox_respond,
    inbox_take,
    insight_raise,
)
from apps.insights.models import InsightRoute
from apps.insights.selectors import inbox_list, inbox_route_get, inbox_units_for, manages_unit, route_responses
from apps.org.models import Employee, OrgUnit

from ..forms import add_service_errors
from ..forms_inbox import InboxFilterForm, NoActionForm, RaiseForm, unit_label
from .base import employee_required, forbidden, no_employee, paginate


def _chosen_unit(request: HttpRequest, units: list[OrgUnit]) -> OrgUnit:
    """The unit asked for (404 when it is not one the user may read), else their own, else the first."""
    asked = request.GET.get("unit")
    if asked:
        found = next((unit for unit in units if str(unit.pk) == asked), None)
        if found is None:
            raise Http404("No such inbox.")
        return found
    employee = employee_of(request.user)
    own = next((unit for unit in units if employee is not None and unit.pk == employee.org_unit_id), None)
    return own or units[0]


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """One unit's inbox, newest first, with filters; a manager of several units picks the unit."""
    units = list(inbox_units_for(request.user))
    if not units:
        if employee_of(request.user) is None and not is_hr(request.user):
            return no_employee(request)
        return render(request, "portal/inbox.html", {"unit": None, "units": []})
    unit = _chosen_unit(request, units)
    data = request.GET.copy()
    data["unit"] = str(unit.pk)  # the picker shows the inbox on screen, also when the user's own is the default
    filters = InboxFilterForm(data, units=units)
    filters.is_valid()  # invalid values are dropped from cleaned_data, so they simply do not filter
    queryset = inbox_list(
        unit=unit,
        status=filters.cleaned_data.get("status") or None,
        channel=filters.cleaned_data.get("channel") or None,
        touchpoint=filters.cleaned_data.get("touchpoint"),
        score_band=filters.cleaned_data.get("score_band") or None,
    )
    page = paginate(request, queryset)
    context = {
        "unit": unit,
        "units": units,
        "page": page,
        "filters": filters,
        "filtered": filters.filtered(),
        "clear_url": f"{reverse('portal:inbox')}?unit={unit.pk}",
    }
    return render(request, "portal/inbox.html", context)


def _abilities(request: HttpRequest, route: InsightRoute) -> dict[str, bool]:
    """Which buttons the page shows (the services decide again when one is pressed)."""
    employee = employee_of(request.user)
    is_open = route.status in OPEN_STATUSES
    mine = employee is not None and route.taken_by_id == employee.pk
    free = route.taken_by_id is None or mine
    manages = manages_unit(request.user, route.unit_id)
    return {
        "can_take": employee is not None and is_open and route.taken_by_id is None,
        "can_release": route.status == InboxStatus.IN_PROGRESS and (mine or manages),
        "can_respond": employee is not None and is_open and free,
        "can_no_action": employee is not None and is_open and (free or manages),
        "can_reopen": route.status == InboxStatus.NO_ACTION and manages,
    }


@login_required
@require_GET
def inbox_route(request: HttpRequest, pk: int) -> HttpResponse:
    """One insight as the unit received it: the customer's words, where from, why routed here, who handles it, and
    the evidence that responds to it."""
    route = inbox_route_get(user=request.user, pk=pk)
    context = {
        "route": route,
        "insight": route.insight,
        "responses": route_responses(user=request.user, route=route),
        **_abilities(request, route),
    }
    return render(request, "portal/inbox_route.html", context)


def _act(
    request: HttpRequest, pk: int, service: Callable[[InsightRoute], object], done: str
) -> tuple[object | None, HttpResponse | None]:
    """Run an inbox service on a route the user may see; the refusal as a message or a 403 page."""
    route = inbox_route_get(user=request.user, pk=pk)
    try:
        result = service(route)
    except InvalidTransition as exc:
        messages.error(request, exc.message)
        return None, redirect("portal:inbox-route", pk=pk)
    except PermissionDenied as exc:
        return None, forbidden(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None, redirect("portal:inbox-route", pk=pk)
    if done:
        messages.success(request, done)
    return result, None


@login_required
@require_POST
def inbox_take_view(request: HttpRequest, pk: int) -> HttpResponse:
    """“I'm on it”."""
    by = signed_in_user(request.user)
    _, refused = _act(request, pk, lambda route: inbox_take(route=route, by=by), "You are on it: the unit sees it.")
    return refused or redirect("portal:inbox-route", pk=pk)


@login_required
@require_POST
def inbox_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the insight back to the unit."""
    by = signed_in_user(request.user)
    done = "Released: the insight is new again in the unit's inbox."
    _, refused = _act(request, pk, lambda route: inbox_release(route=route, by=by), done)
    return refused or redirect("portal:inbox-route", pk=pk)


@login_required
@require_POST
def inbox_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Put an insight closed with no action back in the inbox."""
    by = signed_in_user(request.user)
    done = "Reopened: the insight is new again in the unit's inbox."
    _, refused = _act(request, pk, lambda route: inbox_reopen(route=route, by=by), done)
    return refused or redirect("portal:inbox-route", pk=pk)


@login_required
@require_POST
def inbox_respond_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a draft evidence item carrying the customer's words, linked to the insight, and open its form."""
    by = signed_in_user(request.user)
    done = (
        "A draft response was started with the customer's words. Say what it meant and what you did, then save "
        "and submit it: once verified, the insight counts as responded."
    )
    evidence, refused = _act(request, pk, lambda route: inbox_respond(route=route, by=by), done)
    if refused is not None:
        return refused
    return redirect("portal:evidence-edit", pk=getattr(evidence, "pk", 0))


@login_required
@require_http_methods(["GET", "POST"])
def inbox_no_action_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Close an insight with no action: a reason and a confirmation first."""
    route = inbox_route_get(user=request.user, pk=pk)
    if route.status not in OPEN_STATUSES:
        messages.info(request, f"This insight is {route.get_status_display().lower()}; there is nothing to close.")
        return redirect("portal:inbox-route", pk=pk)
    status = 200
    if request.method == "POST":
        form = NoActionForm(request.POST)
        if form.is_valid():
            try:
                inbox_close_no_action(route=route, by=signed_in_user(request.user), reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            except InvalidTransition as exc:
                messages.error(request, exc.message)
                return redirect("portal:inbox-route", pk=pk)
            except PermissionDenied as exc:
                return forbidden(request, str(exc))
            else:
                messages.success(request, "Closed with no action; the reason is on the record.")
                return redirect(f"{reverse('portal:inbox')}?unit={route.unit_id}")
        status = 400
    else:
        form = NoActionForm()
    context = {"route": route, "insight": route.insight, "form": form}
    return render(request, "portal/inbox_no_action.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@employee_required
def insight_raise_view(request: HttpRequest, employee: Employee) -> HttpResponse:
    """“Tell another group”: what the group that receives another unit's output needs from it."""
    units = list(OrgUnit.objects.active().exclude(pk=employee.org_unit_id).order_by("name", "id"))
    status = 200
    if request.method == "POST":
        form = RaiseForm(request.POST, units=units)
        if form.is_valid():
            to_unit = form.cleaned_data["to_unit"]
            try:
                insight_raise(
                    by=signed_in_user(request.user),
                    to_unit=to_unit,
                    text=form.cleaned_data["text"],
                    touchpoint=form.cleaned_data["touchpoint"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                return forbidden(request, str(exc))
            else:
                messages.success(request, f"Sent to the inbox of {to_unit.name}, from your group, with your name.")
                return redirect("portal:insight-raise")
        status = 400
    else:
        form = RaiseForm(units=units)
    context = {"form": form, "unit_options": [unit_label(unit) for unit in units], "own_unit": employee.org_unit}
    return render(request, "portal/insight_raise.html", context, status=status)
