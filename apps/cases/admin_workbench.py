"""The HR workbench in the admin: opening cases, step decisions, exceptions and attestations, each behind a
confirmation page that calls one service and says what happened (or, on a refusal, why nothing was written)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.common.roles import is_hr
from apps.common.users import signed_in_user
from apps.policies.constants import SubjectKind

from .constants import AttestationRole, ExceptionStatus, StepDecision
from .forms import (
    CandidateForm,
    CommentForm,
    ExceptionRequestForm,
    NoteForm,
    OneEmployeeForm,
    OneUnitForm,
    OpeningFilterForm,
)
from .models import Attestation, Case, Cycle, PolicyException
from .routing import acting_capacity, holds_case_role, waiting_step
from .selectors import case_attestation_roles, checklist_with_titles, cycle_opening_preview
from .services import (
    REFUSALS,
    case_attest,
    case_attestation_withdraw,
    case_exception_decide,
    case_exception_request,
    case_open,
    case_open_many,
    case_step_decide,
    refusal_text,
)
from .timeline import person_name

SEARCH_LIMIT = 25
SKIPPED_SHOWN = 100


def _role_label(role: str) -> str:
    return str(AttestationRole(role).label) if role in AttestationRole.values else role.replace("_", " ")


class CycleOpeningMixin(admin.ModelAdmin):
    """'Open cases' on a cycle: for one subject, or for everyone matching a filter after a preview."""

    def opening_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.open_cases_view)
        return [path("<int:pk>/open-cases/", view, name="cases_cycle_open_cases")]

    def open_cases_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Open cases in a cycle from the admin (the CSV import stays for large lists)."""
        cycle = get_object_or_404(Cycle.objects.select_related("ritual_type"), pk=pk)
        if not self.has_change_permission(request, cycle):
            raise PermissionDenied
        kind = cycle.ritual_type.subject_kind
        post = request.POST if request.method == "POST" else None
        step = request.POST.get("step", "") if post is not None else ""
        query = request.GET.get("q", "").strip()
        one_form: forms.Form
        if kind == SubjectKind.CANDIDATE:
            one_form = CandidateForm(post if step == "one" else None)
        elif kind == SubjectKind.ORG_UNIT:
            one_form = OneUnitForm(post if step == "one" else None)
        else:
            one_form = OneEmployeeForm(post if step == "one" else None)
            if step != "one":
                one_form.fields["employee"].queryset = self._search(query)  # type: ignore[attr-defined]
        filter_form = OpeningFilterForm(post if step in {"preview", "confirm"} else None)
        preview = None
        if step == "one" and one_form.is_valid():
            response = self._open_one(request, cycle, kind, one_form.cleaned_data)
            if response is not None:
                return response
        elif kind == SubjectKind.EMPLOYEE and step in {"preview", "confirm"} and filter_form.is_valid():
            unit = filter_form.cleaned_data["unit"]
            preview = cycle_opening_preview(
                cycle=cycle, unit_id=unit.pk if unit else None, job_level=filter_form.cleaned_data["job_level"]
            )
            if step == "confirm":
                response = self._open_filtered(request, cycle, preview)
                if response is not None:
                    return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Open cases in {cycle}",
            "cycle": cycle,
            "kind": kind,
            "query": query,
            "one_form": one_form,
            "filter_form": filter_form,
            "preview": preview,
            "skipped_shown": preview.skipped[:SKIPPED_SHOWN] if preview else [],
            "media": self.media + one_form.media + filter_form.media,
        }
        return TemplateResponse(request, "admin/cases/cycle/open_cases.html", context)

    @staticmethod
    def _search(query: str) -> Any:
        from django.db.models import Q

        from apps.org.models import Employee

        people = Employee.objects.active().select_related("org_unit").order_by("full_name")
        if not query:
            return people.none()
        matches = Q(full_name__icontains=query) | Q(employee_number__iexact=query) | Q(email__iexact=query)
        pks = list(people.filter(matches).values_list("pk", flat=True)[:SEARCH_LIMIT])
        return people.filter(pk__in=pks)

    def _open_one(self, request: HttpRequest, cycle: Cycle, kind: str, data: dict[str, Any]) -> HttpResponse | None:
        subject: dict[str, Any] = {"nominated_by": data.get("nominated_by")}
        if kind == SubjectKind.CANDIDATE:
            subject |= {"candidate_name": data["candidate_name"], "candidate_email": data["candidate_email"]}
        elif kind == SubjectKind.ORG_UNIT:
            subject["subject_unit"] = data["unit"]
        else:
            subject["subject_employee"] = data["employee"]
        try:
            case = case_open(cycle=cycle, by=signed_in_user(request.user), **subject)
        except REFUSALS as exc:
            self.message_user(request, f"No case was opened: {refusal_text(exc)}", messages.ERROR)
            return None
        url = reverse(f"{self.admin_site.name}:cases_case_change", args=[case.pk])
        self.message_user(
            request,
            format_html('Opened a case for {} in {}: <a href="{}">see the case</a>.', case.subject_name, cycle, url),
            messages.SUCCESS,
        )
        return redirect(url)

    def _open_filtered(self, request: HttpRequest, cycle: Cycle, preview: Any) -> HttpResponse | None:
        if not preview.to_open:
            self.message_user(
                request, "Nobody to open a case for: everyone matching already has one.", messages.WARNING
            )
            return None
        try:
            cases = case_open_many(
                cycle=cycle,
                subjects=[{"subject_employee": person} for person in preview.to_open],
                by=signed_in_user(request.user),
            )
        except REFUSALS as exc:
            self.message_user(request, f"No case was opened: {refusal_text(exc)}", messages.ERROR)
            return None
        url = reverse(f"{self.admin_site.name}:cases_case_changelist") + f"?cycle__id__exact={cycle.pk}"
        skipped = len(preview.skipped)
        self.message_user(
            request,
            format_html(
                'Opened {} case{} in {}; {} already had a live case and {} skipped. <a href="{}">See the cases</a>.',
                len(cases),
                "" if len(cases) == 1 else "s",
                cycle,
                skipped,
                "was" if skipped == 1 else "were",
                url,
            ),
            messages.SUCCESS,
        )
        return redirect(url)


class CaseWorkbenchMixin(admin.ModelAdmin):
    """Buttons on a case page: approve, reject, request an exception, attest, withdraw an attestation."""

    def workbench_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/decide/<str:decision>/", wrap(self.decide_view), name="cases_case_decide"),
            path("<int:pk>/exception/", wrap(self.exception_request_view), name="cases_case_exception_request"),
            path("<int:pk>/attest/<str:role>/", wrap(self.attest_view), name="cases_case_attest"),
            path(
                "<int:pk>/attestations/<int:attestation_id>/withdraw/",
                wrap(self.attestation_withdraw_view),
                name="cases_case_attestation_withdraw",
            ),
        ]

    def workbench_context(self, request: HttpRequest, case: Case, checklist: list[dict[str, Any]]) -> dict[str, Any]:
        """What the signed-in user can do on this case, for the buttons of the change page."""
        user = signed_in_user(request.user)
        context: dict[str, Any] = {
            "portal_url": reverse("portal:case-detail", args=[case.pk]),
            "waiting": None,
            "can_decide": False,
            "attest_roles": [],
            "can_request_exception": False,
        }
        attestations = list(case.attestations.select_related("by"))
        context["attestations"] = [
            {
                "attestation": a,
                "role": _role_label(a.role),
                "can_withdraw": case.is_open and (a.by_id == user.pk or is_hr(user)),
            }
            for a in attestations
        ]
        if not case.is_open:
            return context
        waiting = waiting_step(case)
        context["waiting"] = waiting
        if waiting is not None:
            context["can_decide"] = acting_capacity(user, waiting.step, case, timezone.localdate())[0]
        attested = {a.role for a in attestations}
        context["attest_roles"] = [
            (role, _role_label(role))
            for role in case_attestation_roles(case)
            if role not in attested and holds_case_role(user, role, case)
        ]
        pending = any(e.status == ExceptionStatus.REQUESTED for e in case.exceptions.all())
        context["can_request_exception"] = not pending and any(not row["met"] for row in checklist)
        context["exception_pending"] = pending
        return context

    def _case_for_action(self, request: HttpRequest, pk: int) -> Case:
        case = get_object_or_404(
            Case.objects.select_related("cycle__ritual_type", "subject_employee", "subject_unit"), pk=pk
        )
        if not self.has_view_permission(request, case):
            raise PermissionDenied
        return case

    def _confirm(
        self,
        request: HttpRequest,
        case: Case,
        *,
        form: forms.Form,
        title: str,
        intro: str,
        button: str,
        perform: Callable[[dict[str, Any]], str],
        checklist: bool = False,
    ) -> HttpResponse:
        """The confirmation page of one action; on POST call the service, then say what happened."""
        case_url = reverse(f"{self.admin_site.name}:cases_case_change", args=[case.pk])
        if request.method == "POST" and form.is_valid():
            try:
                message = perform(form.cleaned_data)
            except REFUSALS as exc:
                self.message_user(request, f"Nothing was recorded: {refusal_text(exc)}", messages.ERROR)
            else:
                self.message_user(request, message, messages.SUCCESS)
                return redirect(case_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "case": case,
            "case_url": case_url,
            "intro": intro,
            "form": form,
            "button": button,
            "checklist": checklist_with_titles(case, today=timezone.localdate()) if checklist else None,
        }
        return TemplateResponse(request, "admin/cases/case/confirm_action.html", context)

    def decide_view(self, request: HttpRequest, pk: int, decision: str) -> HttpResponse:
        """Approve (or recommend) or reject the case at the step it waits for."""
        case = self._case_for_action(request, pk)
        user = signed_in_user(request.user)
        waiting = waiting_step(case)
        where = f" at '{waiting.label}'" if waiting else ""
        post = request.POST if request.method == "POST" else None
        if decision == StepDecision.APPROVE:
            form: forms.Form = CommentForm(post)
            intro = (
                f"Approve {case.subject_name}'s case{where}. On the last step the case must meet its policy "
                "(or have a granted exception); the checklist is frozen with the decision."
            )

            def perform(data: dict[str, Any]) -> str:
                done = case_step_decide(case=case, by=user, decision=StepDecision.APPROVE, comment=data["comment"])
                return f"Recorded your approval: the case is {done.get_status_display().lower()}."

        elif decision == StepDecision.REJECT:
            form = NoteForm(post)
            intro = f"Reject {case.subject_name}'s case{where}. This closes the case for good; say why."

            def perform(data: dict[str, Any]) -> str:
                case_step_decide(case=case, by=user, decision=StepDecision.REJECT, comment=data["note"])
                return "Rejected the case; the note is shown to the people involved."

        else:
            raise PermissionDenied("Unknown decision.")
        title = f"{'Approve' if decision == StepDecision.APPROVE else 'Reject'}: {case}"
        label = "Yes, approve" if decision == StepDecision.APPROVE else "Yes, reject"
        return self._confirm(request, case, form=form, title=title, intro=intro, button=label, perform=perform,
                             checklist=True)  # fmt: skip

    def exception_request_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Ask a second HR for an exception to some unmet requirements, with a justification."""
        case = self._case_for_action(request, pk)
        user = signed_in_user(request.user)
        rows = checklist_with_titles(case, today=timezone.localdate())
        unmet = [
            (row["requirement_id"], f"{row['label']} ({row['have']} of {row['need']})")
            for row in rows
            if not row["met"]
        ]
        form = ExceptionRequestForm(request.POST if request.method == "POST" else None, requirements=unmet)

        def perform(data: dict[str, Any]) -> str:
            case_exception_request(
                case=case, by=user, justification=data["justification"], waived_requirement_ids=data["waived"]
            )
            return "Requested the exception: it now waits for a decision by another HR person."

        return self._confirm(
            request,
            case,
            form=form,
            title=f"Request an exception: {case}",
            intro="An exception lets the case be approved without meeting the requirements it waives. "
            "Another HR person decides it (four eyes).",
            button="Request the exception",
            perform=perform,
            checklist=True,
        )

    def attest_view(self, request: HttpRequest, pk: int, role: str) -> HttpResponse:
        """Vouch for the case in a role the signed-in user holds on it."""
        case = self._case_for_action(request, pk)
        user = signed_in_user(request.user)
        label = _role_label(role)
        form = NoteForm(request.POST if request.method == "POST" else None)

        def perform(data: dict[str, Any]) -> str:
            case_attest(case=case, by=user, role=role, note=data["note"])
            return f"Attested as {label.lower()}; the checklist now counts your attestation."

        return self._confirm(
            request,
            case,
            form=form,
            title=f"Attest as {label.lower()}: {case}",
            intro=f"You vouch for {case.subject_name}'s customer-impact evidence as {label.lower()}.",
            button=f"Attest as {label.lower()}",
            perform=perform,
        )

    def attestation_withdraw_view(self, request: HttpRequest, pk: int, attestation_id: int) -> HttpResponse:
        """Take back an attestation (the attester or HR), with a note."""
        case = self._case_for_action(request, pk)
        attestation = get_object_or_404(Attestation.objects.select_related("by"), pk=attestation_id, case=case)
        user = signed_in_user(request.user)
        label = _role_label(attestation.role)
        form = NoteForm(request.POST if request.method == "POST" else None)

        def perform(data: dict[str, Any]) -> str:
            case_attestation_withdraw(attestation=attestation, by=user, note=data["note"])
            return f"Withdrew the {label.lower()} attestation; the checklist no longer counts it."

        return self._confirm(
            request,
            case,
            form=form,
            title=f"Withdraw the {label.lower()} attestation: {case}",
            intro=f"Withdraw {person_name(attestation.by)}'s attestation as {label.lower()}. "
            "A requirement that needs it becomes unmet again.",
            button="Withdraw the attestation",
            perform=perform,
        )


class ExceptionDecisionMixin(admin.ModelAdmin):
    """The decision page of an exception: the case's checklist, what it waives, and grant or refuse with a note."""

    def decision_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.exception_decide_view)
        return [path("<int:pk>/decide/", view, name="cases_policyexception_decide")]

    @admin.display(description="state", ordering="status")
    def state(self, obj: PolicyException) -> str:
        if obj.status == ExceptionStatus.REQUESTED:
            return "Waiting for a decision by a second HR person"
        verb = "Granted" if obj.status == ExceptionStatus.GRANTED else "Refused"
        when = timezone.localdate(obj.decided_at) if obj.decided_at else ""
        return f"{verb} by {person_name(obj.decided_by)} on {when}".strip()

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        exception = self.get_object(request, object_id)
        if exception is not None:
            extra["state_label"] = self.state(exception)
            extra["waiting"] = exception.status == ExceptionStatus.REQUESTED
            extra["case_url"] = reverse(f"{self.admin_site.name}:cases_case_change", args=[exception.case_id])
        return super().change_view(request, object_id, form_url, extra)

    def exception_decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Grant or refuse a waiting exception (never one's own request), seeing the case's checklist."""
        exception = get_object_or_404(
            PolicyException.objects.select_related(
                "case__cycle__ritual_type", "case__subject_employee", "case__subject_unit", "requested_by"
            ),
            pk=pk,
        )
        if not self.has_view_permission(request, exception):
            raise PermissionDenied
        case = exception.case
        form = NoteForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            grant = "_grant" in request.POST
            try:
                done = case_exception_decide(
                    exception=exception, by=signed_in_user(request.user), grant=grant, note=form.cleaned_data["note"]
                )
            except REFUSALS as exc:
                self.message_user(request, f"Nothing was recorded: {refusal_text(exc)}", messages.ERROR)
            else:
                self.message_user(request, f"{self.state(done)}: the exception for {case}.", messages.SUCCESS)
                return redirect(reverse(f"{self.admin_site.name}:cases_policyexception_change", args=[exception.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Decide the exception for {case}",
            "exception": exception,
            "case": case,
            "state_label": self.state(exception),
            "waived": list(exception.waived_requirements.order_by("order", "pk")),
            "checklist": checklist_with_titles(case, today=timezone.localdate()),
            "form": form,
            "case_url": reverse(f"{self.admin_site.name}:cases_case_change", args=[case.pk]),
        }
        return TemplateResponse(request, "admin/cases/policyexception/decide.html", context)
