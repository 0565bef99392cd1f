"""My cases: the employee's own cases with their checklist and what to add; managers see their team's."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.cases.permissions import cases_visible_to
from apps.cases.routing import acting_capacity, next_step, route_steps
from apps.cases.selectors import checklist_rows, checklist_with_titles, live_evaluations
from apps.cases.services import case_step_decide
from apps.common.errors import InvalidTransition
from apps.common.users import signed_in_user
from apps.evidence.permissions import employee_of
from apps.org.selectors import reports_subtree_sql

from ..selectors import nav_for
from .base import paginate


def _rows_with_compliance(cases: list[Case]) -> list[tuple[Case, dict]]:
    """Each case of a page with its met/total counts, evaluated in one batch."""
    evaluations = live_evaluations(cases, today=timezone.localdate())
    rows = []
    for case in cases:
        checklist = checklist_rows(case, evaluations.get(case.pk))
        met = sum(1 for row in checklist if row["met"])
        compliant = all(row["met"] for row in checklist)
        rows.append((case, {"met": met, "total": len(checklist), "compliant": compliant}))
    return rows


def _case_queryset():
    return Case.objects.select_related("cycle__ritual_type", "subject_employee", "subject_unit", "policy_unit")


@login_required
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own cases, and for managers their team's (any depth) and their nominations."""
    employee = employee_of(request.user)
    if employee is None:
        return render(request, "portal/no_employee.html")
    own = list(_case_queryset().filter(subject_employee=employee).order_by("-opened_at")[:50])
    team_qs = _case_queryset().filter(
        subject_employee_id__in=reports_subtree_sql(employee.pk)
    ) | _case_queryset().filter(nominated_by=employee).exclude(subject_employee=employee)
    status = request.GET.get("status", "")
    if status in CaseStatus.values:
        team_qs = team_qs.filter(status=status)
    page = paginate(request, team_qs.order_by("status", "-opened_at", "pk"))
    nav = nav_for(request.user)
    context = {
        "nav": nav,
        "own": _rows_with_compliance(own),
        "team": _rows_with_compliance(list(page.object_list)),
        "page": page,
        "status": status,
        "statuses": CaseStatus.choices,
        "manages": nav.reviews or page.paginator.count > 0,
    }
    return render(request, "portal/my_cases.html", context)


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A case's checklist (live while open, frozen once decided), its route and what to do next."""
    case = cases_visible_to(request.user, _case_queryset()).filter(pk=pk).first()
    if case is None:
        raise Http404("No such case.")
    return render(request, "portal/case_detail.html", _detail_context(request, case))


def _detail_context(request: HttpRequest, case: Case, error: str = "") -> dict:
    today = timezone.localdate()
    checklist = checklist_with_titles(case, today=today)
    employee = employee_of(request.user)
    is_subject = employee is not None and employee.pk == case.subject_employee_id
    steps = route_steps(case)
    step = next_step(case, steps) if case.is_open else None
    can_act, on_behalf = (False, None)
    if step is not None and not is_subject:
        can_act, on_behalf = acting_capacity(signed_in_user(request.user), step, case, today)
    return {
        "case": case,
        "checklist": checklist,
        "met": sum(1 for row in checklist if row["met"]),
        "compliant": all(row["met"] for row in checklist),
        "is_subject": is_subject,
        "records": case.step_records.select_related("by", "on_behalf_of"),
        "steps": steps,
        "next_step": step,
        "can_act": can_act,
        "on_behalf": on_behalf,
        "exceptions": case.exceptions.select_related("requested_by", "decided_by"),
        "error": error,
    }


@login_required
@require_POST
def case_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the signed-in person's decision on the case's next step (the same rules as the admin and API)."""
    case = cases_visible_to(request.user, _case_queryset()).filter(pk=pk).first()
    if case is None:
        raise Http404("No such case.")
    decision = request.POST.get("decision", "")
    try:
        case_step_decide(
            case=case, by=signed_in_user(request.user), decision=decision, comment=request.POST.get("comment", "")
        )
    except ValidationError as exc:
        context = _detail_context(request, case, error=" ".join(exc.messages))
        return render(request, "portal/case_detail.html", context, status=400)
    except (PermissionDenied, InvalidTransition) as exc:
        context = _detail_context(request, case, error=str(exc))
        return render(
            request, "portal/case_detail.html", context, status=403 if isinstance(exc, PermissionDenied) else 409
        )
    return redirect("portal:case-detail", pk=case.pk)
