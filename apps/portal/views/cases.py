"""My cases: the employee's own cases with their checklist and what to add; managers see their team's."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.cases.constants import AttestationRole, CaseStatus, ExceptionStatus, StepDecision, StepRole
from apps.cases.models import Attestation, Case, PolicyException
from apps.cases.permissions import cases_visible_to
from apps.cases.routing import RouteStep, acting_capacity, holds_case_role, next_step, route_steps
from apps.cases.selectors import checklist_rows, checklist_with_titles, live_evaluations
from apps.cases.services import case_attest, case_attestation_withdraw, case_exception_request, case_step_decide
from apps.cases.timeline import case_timeline, person_name
from apps.common.errors import InvalidTransition
from apps.common.roles import is_hr
from apps.common.users import signed_in_user
from apps.evidence.permissions import employee_of
from apps.org.selectors import reports_subtree_sql
from apps.policies.models import Requirement

from ..forms import AttestationWithdrawForm, AttestForm, ExceptionRequestForm, add_service_errors
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
    return Case.objects.select_related(
        "cycle__ritual_type", "subject_employee__manager", "subject_unit", "policy_unit", "nominated_by", "decided_by"
    )


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


def _visible_case(request: HttpRequest, pk: int) -> Case:
    case = cases_visible_to(request.user, _case_queryset()).filter(pk=pk).first()
    if case is None:
        raise Http404("No such case.")
    return case


EXCEPTION_STATE = {
    ExceptionStatus.REQUESTED: "Requested — waiting for HR",
    ExceptionStatus.GRANTED: "Granted",
    ExceptionStatus.REFUSED: "Refused",
}


def _exception_rows(exceptions: list[PolicyException], *, full: bool, share: bool) -> list[dict[str, Any]]:
    """Each exception's state for the page; names, notes and the justification only for those who may read them."""
    rows = []
    for exception in exceptions:
        rows.append(
            {
                "status": exception.status,
                "state": EXCEPTION_STATE.get(ExceptionStatus(exception.status), exception.get_status_display()),
                "requested_at": exception.requested_at,
                "requested_by": person_name(exception.requested_by) if full else "",
                "decided_at": exception.decided_at,
                "decided_by": person_name(exception.decided_by) if full and exception.decided_at else "",
                "justification": exception.justification if share else "",
                "decision_note": exception.decision_note if full else "",
                "waived": [r.label for r in exception.waived_requirements.all()] if full else [],
            }
        )
    return rows


def _may_request_exception(user: User, case: Case) -> bool:
    """Who case_exception_request accepts: the nominator, the subject's manager or HR (the service checks again)."""
    requester = employee_of(user)
    if requester is not None and requester.pk == case.subject_employee_id:
        return False
    return (
        is_hr(user)
        or holds_case_role(user, StepRole.MANAGER, case)
        or (requester is not None and case.nominated_by_id == requester.pk)
    )


def _attestation_roles(case: Case) -> list[str]:
    """The roles the case's attestation requirements name, in policy order (one query)."""
    params = (
        Requirement.objects.filter(version__pinned_cases=case, kind="attestation")
        .order_by("order", "pk")
        .values_list("params", flat=True)
    )
    roles: list[str] = []
    for item in params:
        role = item.get("role") if isinstance(item, dict) else None
        if role in AttestationRole.values and role not in roles:
            roles.append(role)
    return roles


def _role_label(role: str) -> str:
    return AttestationRole(role).label.lower() if role in AttestationRole.values else role.replace("_", " ")


def _unmet(checklist: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(row["requirement_id"], row["label"]) for row in checklist if not row["met"]]


def _detail_context(
    request: HttpRequest,
    case: Case,
    error: str = "",
    *,
    exception_form: ExceptionRequestForm | None = None,
    attest_form: AttestForm | None = None,
    withdraw_form: tuple[int, AttestationWithdrawForm] | None = None,
) -> dict[str, Any]:
    today = timezone.localdate()
    user = signed_in_user(request.user)
    checklist = checklist_with_titles(case, today=today)
    employee = employee_of(user)
    is_subject = employee is not None and employee.pk == case.subject_employee_id
    steps = route_steps(case)
    step = next_step(case, steps) if case.is_open else None
    can_act, on_behalf = (False, None)
    if step is not None and not is_subject:
        can_act, on_behalf = acting_capacity(user, step, case, today)
    hr = is_hr(user)
    timeline = case_timeline(case, viewer=user)
    full = not is_subject
    share = full or bool(getattr(case.cycle.ritual_type, "share_exception_justification", False))
    exceptions = list(
        case.exceptions.select_related("requested_by", "decided_by").prefetch_related("waived_requirements")
    )
    pending = any(e.status == ExceptionStatus.REQUESTED for e in exceptions)
    unmet = _unmet(checklist)

    may_request = case.is_open and not pending and bool(unmet) and _may_request_exception(user, case)
    if may_request and exception_form is None:
        exception_form = ExceptionRequestForm(unmet=unmet)

    attestations = list(case.attestations.select_related("by").order_by("at"))
    attested = {a.role for a in attestations}
    attest_roles = []
    if case.is_open and not is_subject:
        attest_roles = [
            (role, _role_label(role))
            for role in _attestation_roles(case)
            if role not in attested and holds_case_role(user, role, case)
        ]
    attestation_rows = []
    for attestation in attestations:
        can_withdraw = case.is_open and (attestation.by_id == user.pk or hr)
        form = None
        if can_withdraw:
            form = (
                withdraw_form[1]
                if withdraw_form and withdraw_form[0] == attestation.pk
                else AttestationWithdrawForm(prefix=f"withdraw-{attestation.pk}")
            )
        attestation_rows.append({"attestation": attestation, "role": _role_label(attestation.role), "form": form})
    return {
        "case": case,
        "checklist": checklist,
        "met": len(checklist) - len(unmet),
        "compliant": not unmet,
        "is_subject": is_subject,
        "records": case.step_records.select_related("by", "on_behalf_of"),
        "steps": steps,
        "next_step": step,
        "can_act": can_act,
        "on_behalf": on_behalf,
        "exceptions": _exception_rows(exceptions, full=full, share=share),
        "exception_form": exception_form if may_request or exception_form is not None else None,
        "exception_pending": pending,
        "exception_objects": exceptions,
        "attest_roles": attest_roles,
        "attest_form": attest_form or AttestForm(prefix="attest"),
        "attestations": attestation_rows,
        "timeline": timeline,
        "admin_url": reverse("admin:cases_case_change", args=[case.pk]) if hr else "",
        "error": error,
    }


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A case's checklist (live while open, frozen once decided), its route, what to do next and its timeline."""
    case = _visible_case(request, pk)
    return render(request, "portal/case_detail.html", _detail_context(request, case))


def _refusal(request: HttpRequest, case: Case, exc: Exception, **forms: Any) -> HttpResponse:
    """The case page again with the refusal on top: 403 not allowed, 409 wrong state, 400 otherwise."""
    if isinstance(exc, PermissionDenied):
        status, text = 403, str(exc)
    elif isinstance(exc, InvalidTransition):
        status, text = 409, exc.message
    else:
        status, text = 400, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    # The refused service rolled back; read the case again in case someone else changed it meanwhile.
    context = _detail_context(request, _case_queryset().get(pk=case.pk), error=text, **forms)
    return render(request, "portal/case_detail.html", context, status=status)


def _gate_preview(context: dict[str, Any]) -> str:
    """Why the last step's approval would be refused now, as the page sees it ('' when it would pass).

    Only a preview for the confirmation step: the decision service runs the gate again, on locked rows.
    """
    unmet = [row for row in context["checklist"] if not row["met"]]
    if not unmet:
        return ""
    granted = [e for e in context["exception_objects"] if e.status == ExceptionStatus.GRANTED]
    waived = {r.pk for e in granted for r in e.waived_requirements.all()}
    uncovered = [row for row in unmet if row["requirement_id"] not in waived]
    if not uncovered:
        return ""
    lines = "; ".join(f"{row['label']} ({row['have']} of {row['need']})" for row in uncovered)
    hint = "" if granted else " Request an exception with a written justification to approve anyway."
    return f"The case does not meet its policy: {lines}.{hint}"


def _position(steps: tuple[RouteStep, ...], step: RouteStep) -> str:
    return f"step {steps.index(step) + 1} of {len(steps)}: {step.name}"


@login_required
@require_POST
def case_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the signed-in person's decision on the case's next step, after a confirmation (the service's rules)."""
    case = _visible_case(request, pk)
    user = signed_in_user(request.user)
    decision = request.POST.get("decision", "")
    comment = request.POST.get("comment", "")
    if request.POST.get("confirm") != "yes":
        return _confirm_decision(request, case, decision, comment)
    steps = route_steps(case)
    step = next_step(case, steps) if case.is_open else None
    try:
        decided = case_step_decide(case=case, by=user, decision=decision, comment=comment)
    except (ValidationError, PermissionDenied, InvalidTransition) as exc:
        return _refusal(request, case, exc)
    messages.success(request, _decision_message(decided, steps, step, decision))
    return redirect("portal:case-detail", pk=case.pk)


def _decision_message(case: Case, steps: tuple[RouteStep, ...], step: RouteStep | None, decision: str) -> str:
    where = _position(steps, step) if step is not None else "the case"
    if decision == StepDecision.REJECT:
        return f"You rejected {where}; the case is closed as rejected."
    if not case.is_open:
        return f"You approved {where}; the case is {case.get_status_display().lower()}."
    following = next_step(case, steps)
    waiting = f"; the case now waits for {following.name}" if following is not None else ""
    return f"You approved {where}{waiting}."


def _confirm_decision(request: HttpRequest, case: Case, decision: str, comment: str) -> HttpResponse:
    """The confirmation step: what the decision does; refusals the page can already see are shown at once."""
    context = _detail_context(request, case)
    step = context["next_step"]
    if step is None:
        return _refusal(request, case, InvalidTransition("This case is decided; decided cases are read-only."))
    if context["is_subject"]:
        return _refusal(request, case, PermissionDenied("Nobody decides on their own case."))
    steps = context["steps"]
    if not context["can_act"]:
        message = f"The case waits for '{step.name}' ({_position(steps, step)}); you cannot act on that step."
        return _refusal(request, case, PermissionDenied(message))
    if decision not in StepDecision.values:
        return _refusal(request, case, ValidationError("Choose approve or reject."))
    is_last = step.order == steps[-1].order
    if decision == StepDecision.APPROVE and is_last:
        blocked = _gate_preview(context)
        if blocked:
            context["error"] = blocked
            context["gate_refused"] = True
            return render(request, "portal/case_detail.html", context, status=400)
    following = next((s for s in steps if s.order > step.order), None)
    context.update(
        {
            "decision": decision,
            "decision_label": "Approve" if decision == StepDecision.APPROVE else "Reject",
            "comment": comment,
            "position": _position(steps, step),
            "is_last": is_last,
            "following": following,
        }
    )
    return render(request, "portal/case_decide_confirm.html", context)


@login_required
@require_POST
def case_exception_request_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for an exception to the unmet requirements, with a written justification (nothing written on error)."""
    case = _visible_case(request, pk)
    if not _may_request_exception(signed_in_user(request.user), case):  # before reading the form: not theirs to fill
        refusal = PermissionDenied("Only the nominator, the subject's manager or HR can request an exception.")
        return _refusal(request, case, refusal)
    unmet = _unmet(checklist_with_titles(case, today=timezone.localdate()))
    form = ExceptionRequestForm(request.POST, unmet=unmet)
    if not form.is_valid():
        context = _detail_context(request, case, exception_form=form)
        return render(request, "portal/case_detail.html", context, status=400)
    try:
        case_exception_request(
            case=case,
            by=signed_in_user(request.user),
            justification=form.cleaned_data["justification"],
            waived_requirement_ids=form.cleaned_data["waived_requirements"],
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        context = _detail_context(request, case, exception_form=form)
        return render(request, "portal/case_detail.html", context, status=400)
    except (PermissionDenied, InvalidTransition) as exc:
        return _refusal(request, case, exc)
    messages.success(request, "Exception requested; a second HR person decides it.")
    return redirect("portal:case-detail", pk=case.pk)


@login_required
@require_POST
def case_attest_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Vouch for the case in a role one of its attestation requirements names."""
    case = _visible_case(request, pk)
    user = signed_in_user(request.user)
    form = AttestForm(request.POST, prefix="attest")
    if not form.is_valid():
        if not any(holds_case_role(user, role, case) for role in _attestation_roles(case)):
            refusal = PermissionDenied("Only a role this case's policy asks to attest (e.g. the manager) can attest.")
            return _refusal(request, case, refusal)
        return _refusal(request, case, ValidationError("Choose the role you attest in."), attest_form=form)
    role = form.cleaned_data["role"]
    try:
        case_attest(case=case, by=signed_in_user(request.user), role=role, note=form.cleaned_data["note"])
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _refusal(request, case, exc, attest_form=form)
    except (PermissionDenied, InvalidTransition) as exc:
        return _refusal(request, case, exc, attest_form=form)
    messages.success(request, f"You attested as {_role_label(role)}: the {_role_label(role)} attestation is now met.")
    return redirect("portal:case-detail", pk=case.pk)


@login_required
@require_POST
def case_attestation_withdraw_view(request: HttpRequest, pk: int, attestation_pk: int) -> HttpResponse:
    """Take an attestation back (the attester or HR), with a note; the requirement counts as unmet again."""
    case = _visible_case(request, pk)
    attestation = Attestation.objects.filter(pk=attestation_pk, case=case).select_related("case").first()
    if attestation is None:
        return _refusal(request, case, InvalidTransition("This attestation has already been withdrawn."))
    form = AttestationWithdrawForm(request.POST, prefix=f"withdraw-{attestation.pk}")
    if not form.is_valid():
        context = _detail_context(request, case, withdraw_form=(attestation.pk, form))
        return render(request, "portal/case_detail.html", context, status=400)
    try:
        case_attestation_withdraw(
            attestation=attestation, by=signed_in_user(request.user), note=form.cleaned_data["note"]
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        context = _detail_context(request, case, withdraw_form=(attestation.pk, form))
        return render(request, "portal/case_detail.html", context, status=400)
    except (PermissionDenied, InvalidTransition) as exc:
        return _refusal(request, case, exc)
    messages.success(
        request, f"You withdrew the {_role_label(attestation.role)} attestation; that requirement is not met any more."
    )
    return redirect("portal:case-detail", pk=case.pk)
