"""HR's faces for retention and legal holds in the admin: the rules with what is due, the dry run, "Run now", placing
and releasing holds, and "Erase candidate data now" on a decided hiring case. Each irreversible step has a
confirmation page and ends with a message."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.cases.models import Case
from apps.common.users import signed_in_user

from .constants import DRY_RUN_PAGE_SIZE, UPCOMING_DAYS
from .holds import hold_place, hold_release
from .models import LegalHold, RetentionRule
from .retention import apply_retention, candidate_erase_now, plan_retention, summaries, upcoming
from .retention.plan import DECIDED


def _refusal(exc: ValidationError | PermissionDenied) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """One rule per kind (made by the migration): HR edits the period, switches a rule off, notes why."""

    list_display = ("kind", "keep_days", "enabled", "note")
    fields = ("kind", "keep_days", "enabled", "note", "updated_at")
    readonly_fields = ("kind", "updated_at")
    change_list_template = "privacy/retention/rule_changelist.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one rule per kind, made by the migration

    def has_delete_permission(self, request: HttpRequest, obj: RetentionRule | None = None) -> bool:
        return False  # switch a rule off instead

    def get_list_display(self, request: HttpRequest) -> tuple[Any, ...]:
        """The rule's columns plus what it removes now and soon, counted once for the whole list."""
        counts = summaries(timezone.localdate(), UPCOMING_DAYS)

        @admin.display(description="due now")
        def due_now(obj: RetentionRule) -> int:
            return counts[obj.kind].due_now

        @admin.display(description="kept by legal hold")
        def kept_by_hold(obj: RetentionRule) -> int:
            return counts[obj.kind].held

        @admin.display(description=f"due within {UPCOMING_DAYS} days")
        def due_soon(obj: RetentionRule) -> int:
            return counts[obj.kind].upcoming

        return ("kind", "keep_days", "enabled", due_now, kept_by_hold, due_soon, "note")

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("dry-run/", wrap(self.dry_run_view), name="privacy_retentionrule_dry_run"),
            path("run/", wrap(self.run_view), name="privacy_retentionrule_run"),
            path("erase-candidate/<int:case_id>/", wrap(self.erase_candidate_view), name="privacy_erase_candidate"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str, **more: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **more}

    def dry_run_view(self, request: HttpRequest) -> HttpResponse:
        """What a run would remove today, what a hold keeps, and what becomes due soon (paginated, changes nothing)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        plan = plan_retention(today)
        due = [item for item in plan if item.removable]
        held = [item for item in plan if item.held_by is not None]
        disabled = [item for item in plan if item.held_by is None and not item.rule_enabled]
        soon = upcoming(today, UPCOMING_DAYS)
        page = Paginator(due, DRY_RUN_PAGE_SIZE).get_page(request.GET.get("page"))
        context = self._context(
            request,
            "Retention dry run",
            today=today,
            page=page,
            due_count=len(due),
            held=held,
            disabled=disabled,
            upcoming=soon[:DRY_RUN_PAGE_SIZE],
            upcoming_count=len(soon),
            upcoming_days=UPCOMING_DAYS,
            can_run=self.has_change_permission(request),
        )
        return TemplateResponse(request, "privacy/retention/dry_run.html", context)

    def run_view(self, request: HttpRequest) -> HttpResponse:
        """Confirm, then remove everything due now (what the dry run lists), and say how much went."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        if request.method == "POST":
            try:
                result = apply_retention(today, dry_run=False, by=signed_in_user(request.user))
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"The run stopped: {_refusal(exc)}", messages.ERROR)
            else:
                self.message_user(request, result.summary(), messages.SUCCESS)
            return redirect(reverse(f"{self.admin_site.name}:privacy_retentionrule_changelist"))
        preview = apply_retention(today, dry_run=True)
        rows = [(RetentionRule(kind=kind).get_kind_display(), n) for kind, n in preview.counts.items()]
        context = self._context(
            request, "Run retention now", today=today, rows=rows, result=preview, held_count=len(preview.held)
        )
        return TemplateResponse(request, "privacy/retention/run_confirm.html", context)

    def erase_candidate_view(self, request: HttpRequest, case_id: int) -> HttpResponse:
        """Erase a decided hiring case's candidate now (on a request), after a confirmation."""
        case = get_object_or_404(Case.objects.select_related("cycle"), pk=case_id)
        user = signed_in_user(request.user)
        if not user.has_perm("privacy.erase_person"):
            raise PermissionDenied
        case_url = reverse(f"{self.admin_site.name}:cases_case_change", args=[case.pk])
        if request.method == "POST":
            try:
                candidate_erase_now(case=case, by=user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"Nothing was erased: {_refusal(exc)}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Erased the candidate's data of case #{case.pk}: the case stays, counted, as "
                    f"'Erased candidate #{case.pk}'.",
                    messages.SUCCESS,
                )
            return redirect(case_url)
        context = self._context(
            request,
            f"Erase the candidate's data of case #{case.pk}",
            case=case,
            case_url=case_url,
            decided=case.status in DECIDED,
            held=case.legal_holds.filter(released_at__isnull=True).exists(),
        )
        return TemplateResponse(request, "privacy/retention/erase_candidate.html", context)


class HoldStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("released", "Released")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[LegalHold]) -> QuerySet[LegalHold]:
        if self.value() == "active":
            return queryset.filter(released_at__isnull=True)
        if self.value() == "released":
            return queryset.filter(released_at__isnull=False)
        return queryset


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    """Place a hold on a person or a case (never edited or deleted afterwards: only released)."""

    list_display = ("__str__", "held", "reason_short", "placed_by", "placed_at", "state")
    list_filter = (HoldStateFilter,)
    search_fields = ("employee__full_name", "employee__employee_number", "=case__id")
    list_select_related = ("employee", "case", "placed_by", "released_by")
    raw_id_fields = ("case",)
    autocomplete_fields = ("employee",)
    fields = ("employee", "case", "reason")
    change_form_template = "privacy/retention/hold_change_form.html"

    def get_readonly_fields(self, request: HttpRequest, obj: LegalHold | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("employee", "case", "reason", "placed_by", "placed_at", "released_by", "released_at")

    def get_fields(self, request: HttpRequest, obj: LegalHold | None = None) -> tuple[str, ...]:
        return self.fields if obj is None else self.get_readonly_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: LegalHold | None = None) -> bool:
        return False

    @admin.display(description="holds")
    def held(self, obj: LegalHold) -> str:
        if obj.employee is not None:
            return f"{obj.employee.full_name} ({obj.employee.employee_number})"
        return f"Case #{obj.case_id}" if obj.case_id else "a removed case"

    @admin.display(description="reason")
    def reason_short(self, obj: LegalHold) -> str:
        return obj.reason if len(obj.reason) <= 80 else obj.reason[:77] + "..."

    @admin.display(description="state", ordering="released_at")
    def state(self, obj: LegalHold) -> str:
        if obj.released_at is None:
            return "Active"
        return f"Released on {timezone.localdate(obj.released_at):%Y-%m-%d}"

    def save_model(self, request: HttpRequest, obj: LegalHold, form: Any, change: bool) -> None:
        if change:
            raise PermissionDenied("A placed hold cannot be changed; release it instead.")
        try:
            placed = hold_place(
                employee=obj.employee, case=obj.case, reason=obj.reason, by=signed_in_user(request.user)
            )
        except ValidationError as exc:
            raise PermissionDenied(_refusal(exc)) from exc
        obj.pk = placed.pk
        obj.placed_at = placed.placed_at

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # A placed hold is never edited: the page shows it, with "Release hold" while it is active.
        extra = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra)

    def response_add(self, request: HttpRequest, obj: LegalHold, post_url_continue: str | None = None) -> HttpResponse:
        self.message_user(
            request,
            f"Placed legal hold #{obj.pk} on {obj.target_label}: retention and erasure leave it alone until released.",
            messages.SUCCESS,
        )
        return redirect(reverse(f"{self.admin_site.name}:privacy_legalhold_changelist"))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.release_view)
        return [path("<int:pk>/release/", view, name="privacy_legalhold_release"), *super().get_urls()]

    def release_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Release an active hold after a confirmation."""
        hold = get_object_or_404(LegalHold.objects.select_related("employee", "case", "placed_by"), pk=pk)
        if not self.has_change_permission(request, hold):
            raise PermissionDenied
        hold_url = reverse(f"{self.admin_site.name}:privacy_legalhold_change", args=[hold.pk])
        if request.method == "POST":
            try:
                hold_release(hold=hold, by=signed_in_user(request.user))
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"Nothing changed: {_refusal(exc)}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    format_html(
                        "Released legal hold #{}: retention removes what it kept once due "
                        '(<a href="{}">see the dry run</a>).',
                        hold.pk,
                        reverse(f"{self.admin_site.name}:privacy_retentionrule_dry_run"),
                    ),
                    messages.SUCCESS,
                )
            return redirect(hold_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Release legal hold #{hold.pk}",
            "hold": hold,
            "hold_url": hold_url,
        }
        return TemplateResponse(request, "privacy/retention/hold_release.html", context)


from . import admin_person  # noqa: E402, F401 - the person pages (erasure, access export) register with the admin
