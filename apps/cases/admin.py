"""HR admin for cycles, cases, approval routes, delegations and exceptions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html

from apps.common.errors import InvalidTransition
from apps.common.pagination import EstimatedCountAdminMixin
from apps.common.users import signed_in_user
from apps.org.admin_filters import CustomerLayerFilter

from .admin_workbench import CaseWorkbenchMixin, CycleOpeningMixin, ExceptionDecisionMixin
from .constants import ExceptionStatus, StepRole
from .forms import DecisionNoteForm, NominationsForm
from .models import ApprovalRoute, ApprovalStep, Attestation, Case, Cycle, Delegation, PolicyException, StepRecord
from .nominations import COLUMNS, cycle_nominations_import
from .preview.admin_views import PolicyPreviewAdminMixin
from .selectors import approvable_q, cases_waiting_for_role, checklist_with_titles, live_evaluations
from .services import case_exception_decide, case_step_decide
from .timeline import case_timeline


@admin.register(Cycle)
class CycleAdmin(CycleOpeningMixin, admin.ModelAdmin):
    list_display = ("name", "ritual_type", "status", "opens_on", "evidence_deadline", "decision_deadline")
    list_filter = ("ritual_type", "status")
    search_fields = ("name",)
    date_hierarchy = "opens_on"
    change_form_template = "admin/cases/cycle/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.nominations_view)
        return [
            path("<int:pk>/nominations/", view, name="cases_cycle_nominations"),
            *self.opening_urls(),
            *super().get_urls(),
        ]

    def nominations_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Open the cycle's cases from a CSV of nominations, all or nothing."""
        cycle = get_object_or_404(Cycle.objects.select_related("ritual_type"), pk=pk)
        if not self.has_change_permission(request, cycle):
            raise PermissionDenied
        form = NominationsForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            result = cycle_nominations_import(
                cycle=cycle, content=form.cleaned_data["file"].read(), by=signed_in_user(request.user)
            )
            if result.ok:
                self.message_user(request, f"Opened {result.opened} cases in {cycle}.", messages.SUCCESS)
                return redirect(f"{self.admin_site.name}:cases_case_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Open cases in {cycle} from nominations",
            "cycle": cycle,
            "form": form,
            "result": result,
            "columns": COLUMNS[cycle.ritual_type.subject_kind],
        }
        return TemplateResponse(request, "admin/cases/cycle/nominations.html", context)


class ComplianceFilter(admin.SimpleListFilter):
    """Filter on the stored compliance (refreshed when evidence is reviewed, frozen at decision)."""

    title = "compliance"
    parameter_name = "compliant"

    def lookups(self, request, model_admin):
        return [
            ("yes", "Meets policy"),
            ("ready", "Meets policy or has a granted exception"),
            ("no", "Short of policy"),
            ("unknown", "Not evaluated yet"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "ready":
            return queryset.filter(approvable_q())
        if value == "yes":
            return queryset.filter(compliant=True)
        if value == "no":
            return queryset.filter(compliant=False)
        if value == "unknown":
            return queryset.filter(compliant__isnull=True)
        return queryset


class RequestedByFilter(admin.SimpleListFilter):
    """Whose exception requests: someone else's (the ones you may decide, four eyes) or your own."""

    title = "requested by"
    parameter_name = "requested_by"

    def lookups(self, request, model_admin):
        return [("others", "Someone else (you may decide)"), ("me", "Me")]

    def queryset(self, request, queryset):
        if self.value() == "others":
            return queryset.exclude(requested_by_id=request.user.pk)
        if self.value() == "me":
            return queryset.filter(requested_by_id=request.user.pk)
        return queryset


class WaitingForFilter(admin.SimpleListFilter):
    """Open cases by the role of the approval step they wait for."""

    title = "waiting for"
    parameter_name = "waiting_for"

    def lookups(self, request, model_admin):
        return [(value, f"{label} step") for value, label in StepRole.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value is not None and value in StepRole.values:
            return cases_waiting_for_role(queryset, value)
        return queryset


class CaseChangeList(ChangeList):
    """Evaluates the open cases of the page in one batch, so the compliance column needs no query per row."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        evaluations = live_evaluations(self.result_list, today=timezone.localdate())
        for case in self.result_list:
            case.live_evaluation = evaluations.get(case.pk)


class StepRecordInline(admin.TabularInline):
    model = StepRecord
    fields = ("order", "step_name", "decision", "by", "on_behalf_of", "comment", "at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AttestationInline(admin.TabularInline):
    model = Attestation
    fields = ("role", "by", "note", "at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PolicyUnitLayerFilter(CustomerLayerFilter):
    """The customer layer of the unit whose policies apply (fixed choices: no DISTINCT over the cases table)."""

    layer_lookup = "policy_unit__customer_layer"


@admin.register(Case)
class CaseAdmin(PolicyPreviewAdminMixin, CaseWorkbenchMixin, EstimatedCountAdminMixin, admin.ModelAdmin):
    list_display = ("subject", "cycle", "ritual", "policy_unit", "status", "compliance", "opened_on")
    list_filter = (
        "status", ComplianceFilter, WaitingForFilter, "cycle__ritual_type", "cycle", PolicyUnitLayerFilter,
    )  # fmt: skip
    # A company's cases run to the hundreds of thousands: no whole-table COUNT(*) (EstimatedCountAdminMixin).
    show_full_result_count = False
    search_fields = (
        "subject_employee__full_name", "subject_employee__employee_number", "subject_unit__name", "candidate_name",
        "cycle__name",
    )  # fmt: skip
    list_select_related = ("cycle", "cycle__ritual_type", "subject_employee", "subject_unit", "policy_unit")
    autocomplete_fields = ("policy_unit",)
    readonly_fields = (
        "cycle", "subject_employee", "subject_unit", "candidate_name", "candidate_email", "policy_unit",
        "nominated_by", "opened_at", "opened_on", "status", "decided_by", "decided_at", "decision_note", "compliant",
    )  # fmt: skip
    fields = readonly_fields
    inlines = [StepRecordInline, AttestationInline]
    actions = ["approve_selected", "reject_selected"]
    change_form_template = "admin/cases/case/change_form.html"

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing on a case is edited by hand: decisions go through the buttons, so the page shows no Save buttons.
        return False

    @admin.display(description="subject", ordering="subject_employee__full_name")
    def subject(self, obj: Case) -> str:
        return obj.subject_name

    @admin.display(description="ritual", ordering="cycle__ritual_type__order")
    def ritual(self, obj: Case) -> str:
        return obj.cycle.ritual_type.name

    @admin.display(description="compliance")
    def compliance(self, obj: Case) -> str:
        evaluation = getattr(obj, "live_evaluation", None)
        if evaluation is not None:
            met = sum(1 for r in evaluation.results if r.met)
            label = "meets policy" if evaluation.compliant else "short"
            return format_html(
                '<span class="{}">{} ({}/{} met)</span>',
                "rc-ok" if evaluation.compliant else "rc-short",
                label,
                met,
                len(evaluation.results),
            )
        if obj.frozen_evaluation:
            return "met at decision" if obj.frozen_evaluation.get("compliant") else "not met at decision"
        return "-"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if case is not None:
            checklist = checklist_with_titles(case, today=timezone.localdate())
            extra["checklist"] = checklist
            extra["frozen"] = not case.is_open
            extra["exceptions"] = case.exceptions.prefetch_related("waived_requirements").select_related(
                "requested_by", "decided_by"
            )
            extra.update(self.workbench_context(request, case, checklist))
            extra["timeline"] = case_timeline(case, viewer=signed_in_user(request.user))
        return super().change_view(request, object_id, form_url, extra)

    def _decide(self, request: HttpRequest, queryset: QuerySet[Case], decision: str, comment: str) -> None:
        done = 0
        for case in queryset.select_related("cycle"):
            try:
                case_step_decide(case=case, by=signed_in_user(request.user), decision=decision, comment=comment)
                done += 1
            except (ValidationError, PermissionDenied, InvalidTransition) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{case.subject_name}: {text}", messages.ERROR)
        if done:
            verb = "Recorded approval of" if decision == "approve" else "Rejected"
            self.message_user(request, f"{verb} {done} case(s).", messages.SUCCESS)

    @admin.action(description="Approve selected cases (your step of their route)")
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        self._decide(request, queryset, "approve", "")

    @admin.action(description="Reject selected cases (asks for a note)")
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Case]) -> HttpResponse | None:
        form = DecisionNoteForm(request.POST if "comment" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._decide(request, queryset, "reject", form.cleaned_data["comment"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Reject cases",
            "cases": queryset.select_related("cycle", "subject_employee", "subject_unit"),
            "form": form,
            "action": "reject_selected",
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/cases/case/reject_note.html", context)

    def get_urls(self):
        return [
            *self.preview_urls(),
            *self.workbench_urls(),
            *super().get_urls(),
        ]


class ExceptionDecisionFilter(admin.SimpleListFilter):
    """Exceptions waiting for a second HR, or already decided."""

    title = "decision"
    parameter_name = "decision"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting for a decision"), ("decided", "Decided")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(status=ExceptionStatus.REQUESTED)
        if self.value() == "decided":
            return queryset.filter(~Q(status=ExceptionStatus.REQUESTED))
        return queryset


@admin.register(PolicyException)
class PolicyExceptionAdmin(ExceptionDecisionMixin, admin.ModelAdmin):
    list_display = ("case", "state", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = (ExceptionDecisionFilter, RequestedByFilter, "status", "case__cycle__ritual_type", "case__cycle")
    search_fields = ("case__subject_employee__full_name", "case__candidate_name", "justification")
    list_select_related = ("case__cycle", "case__subject_employee", "case__subject_unit", "requested_by", "decided_by")
    readonly_fields = (
        "case", "justification", "status", "requested_by", "requested_at", "decided_by", "decided_at", "decision_note",
    )  # fmt: skip
    fields = (*readonly_fields, "waived_requirements")
    filter_horizontal = ()
    actions = ["grant_selected", "refuse_selected"]
    change_form_template = "admin/cases/policyexception/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Read-only: HR decides on the decision page (checklist, waived requirements, a note), never by editing.
        return False

    def get_urls(self):
        return [*self.decision_urls(), *super().get_urls()]

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "waived_requirements")

    def _decide(self, request: HttpRequest, queryset: QuerySet[PolicyException], grant: bool) -> None:
        for exception in queryset:
            try:
                case_exception_decide(exception=exception, by=signed_in_user(request.user), grant=grant)
                verb = "Granted" if grant else "Refused"
                self.message_user(request, f"{verb}: {exception}.", messages.SUCCESS)
            except (PermissionDenied, InvalidTransition, ValidationError) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{exception}: {text}", messages.ERROR)

    @admin.action(description="Grant selected exceptions (four eyes: not your own requests)")
    def grant_selected(self, request: HttpRequest, queryset: QuerySet[PolicyException]) -> None:
        self._decide(request, queryset, True)

    @admin.action(description="Refuse selected exceptions")
    def refuse_selected(self, request: HttpRequest, queryset: QuerySet[PolicyException]) -> None:
        self._decide(request, queryset, False)


class ApprovalStepInline(admin.TabularInline):
    model = ApprovalStep
    fields = ("order", "name", "role", "group")
    extra = 0


@admin.register(ApprovalRoute)
class ApprovalRouteAdmin(admin.ModelAdmin):
    list_display = ("name", "ritual_type")
    search_fields = ("name", "ritual_type__name")
    list_select_related = ("ritual_type",)
    inlines = [ApprovalStepInline]


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("delegate", "principal", "step", "starts_on", "ends_on", "reason")
    list_filter = ("starts_on", "ends_on")
    search_fields = ("delegate__username", "principal__username", "reason")
    list_select_related = ("delegate", "principal", "step")
    autocomplete_fields = ("delegate", "principal")
