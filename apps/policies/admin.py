"""HR admin for rituals, categories and versioned policies."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from apps.common.users import signed_in_user

from .constants import VersionStatus
from .engine.requirement_kinds import KIND_HELP, KIND_LABELS
from .models import EvidenceCategory, Policy, PolicyVersion, Requirement, RitualType
from .selectors import group_additions_inventory
from .services import policy_version_draft_from, policy_version_publish, policy_version_retire


def kind_help_rows() -> list[tuple[str, str, str]]:
    """(code, label, explanation with example) for every requirement kind, for the admin's help panel."""
    return [(kind.value, KIND_LABELS[kind], text) for kind, text in KIND_HELP.items()]


@admin.register(RitualType)
class RitualTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "subject_kind", "order", "active")
    list_filter = ("subject_kind", "active")
    search_fields = ("name", "code", "description")


@admin.register(EvidenceCategory)
class EvidenceCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "is_outcome", "active")
    list_filter = ("kind", "is_outcome", "active")
    search_fields = ("name", "code", "description")


class ScopeFilter(admin.SimpleListFilter):
    """Baseline policies or group additions."""

    title = "scope"
    parameter_name = "scope_type"

    def lookups(self, request, model_admin):
        return [("baseline", "Company baseline"), ("group", "Group additions")]

    def queryset(self, request, queryset):
        prefix = "" if queryset.model is Policy else "policy__"
        if self.value() == "baseline":
            return queryset.filter(**{f"{prefix}scope__isnull": True})
        if self.value() == "group":
            return queryset.filter(**{f"{prefix}scope__isnull": False})
        return queryset


class PolicyVersionInline(admin.TabularInline):
    model = PolicyVersion
    fields = ("number", "status", "effective_from", "effective_to", "published_at", "notes")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "ritual_type", "scope_display", "layer", "versions_summary")
    list_filter = ("ritual_type", ScopeFilter, "scope__customer_layer")
    search_fields = ("name", "description", "scope__name", "scope__code", "ritual_type__name")
    list_select_related = ("ritual_type", "scope")
    autocomplete_fields = ("scope",)
    inlines = [PolicyVersionInline]
    change_list_template = "admin/policies/policy/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Policy]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("versions", queryset=PolicyVersion.objects.order_by("-number")))
        )

    @admin.display(description="applies to", ordering="scope__name")
    def scope_display(self, obj: Policy) -> str:
        return "Company baseline (everyone)" if obj.scope_id is None else f"{obj.scope} and its sub-units"

    @admin.display(description="customer layer", ordering="scope__customer_layer")
    def layer(self, obj: Policy) -> str:
        return "all" if obj.scope is None else str(obj.scope.customer_layer)

    @admin.display(description="versions")
    def versions_summary(self, obj: Policy) -> str:
        versions = list(obj.versions.all())
        if not versions:
            return "no version yet"
        return ", ".join(f"v{v.number} {v.status}" for v in versions[:4]) + (" ..." if len(versions) > 4 else "")

    def get_urls(self):
        return [
            path("inventory/", self.admin_site.admin_view(self.inventory_view), name="policies_policy_inventory"),
            *super().get_urls(),
        ]

    def inventory_view(self, request: HttpRequest) -> HttpResponse:
        """Per org unit, what groups added on top of the baseline; HR's input for next year's baseline."""
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        ritual_id = request.GET.get("ritual_type")
        rows = group_additions_inventory(
            as_of=timezone.localdate(), ritual_type_id=int(ritual_id) if ritual_id and ritual_id.isdigit() else None
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Group additions inventory",
            "rows": rows,
            "ritual_types": RitualType.objects.all(),
            "selected_ritual": ritual_id or "",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/policies/policy/inventory.html", context)


class RequirementForm(forms.ModelForm):
    class Meta:
        model = Requirement
        fields = ("order", "kind", "params", "label", "weight", "help_text")
        widgets = {
            "params": forms.Textarea(attrs={"rows": 2, "cols": 50}),
            "help_text": forms.Textarea(attrs={"rows": 2, "cols": 30}),
        }


class RequirementInline(admin.TabularInline):
    model = Requirement
    form = RequirementForm
    extra = 0
    ordering = ("order", "pk")

    def _editable(self, obj: PolicyVersion | None) -> bool:
        return obj is None or obj.status == VersionStatus.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "policy",
        "number",
        "status",
        "effective_from",
        "effective_to",
        "requirement_count",
        "published_at",
    )
    list_filter = ("status", "policy__ritual_type", ScopeFilter, "effective_from")
    search_fields = ("policy__name", "notes", "policy__scope__name")
    list_select_related = ("policy", "policy__ritual_type", "policy__scope")
    autocomplete_fields = ("policy",)
    date_hierarchy = "effective_from"
    inlines = [RequirementInline]
    actions = ["publish_selected", "draft_from_selected", "retire_selected"]
    change_form_template = "admin/policies/policyversion/change_form.html"
    readonly_fields = ("number", "status", "based_on", "created_by", "published_by", "published_at", "retired_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PolicyVersion]:
        return super().get_queryset(request).annotate(_requirements=Count("requirements"))

    @admin.display(description="requirements", ordering="_requirements")
    def requirement_count(self, obj: PolicyVersion) -> int:
        return obj._requirements  # type: ignore[attr-defined]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return ("policy", "effective_from", "effective_to", "notes", *self.readonly_fields)
        if obj is not None:
            return ("policy", *self.readonly_fields)
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "kind_help": kind_help_rows()}
        if object_id:
            version = self.get_object(request, object_id)
            if version is not None and version.status != VersionStatus.DRAFT:
                if request.method == "POST":
                    self.message_user(
                        request,
                        f"Version {version.number} is {version.status} and cannot be edited. "
                        "Use 'New draft from this version' to change the criteria.",
                        messages.ERROR,
                    )
                    return HttpResponseRedirect(request.path)
                extra_context["locked_message"] = (
                    f"This version is {version.get_status_display().lower()} and immutable: cases opened while "
                    "it was in force are judged by it. To change the criteria, create a new draft from it."
                )
            extra_context["version_obj"] = version
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/publish/",
                view(self.transition_view),
                {"transition": "publish"},
                name="policies_policyversion_publish",
            ),
            path(
                "<int:pk>/new-draft/",
                view(self.transition_view),
                {"transition": "draft"},
                name="policies_policyversion_draft",
            ),
            path(
                "<int:pk>/retire/",
                view(self.transition_view),
                {"transition": "retire"},
                name="policies_policyversion_retire",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request: HttpRequest, pk: int, transition: str) -> HttpResponse:
        """Publish, retire or copy one version from the buttons on its page (POST only)."""
        version = get_object_or_404(PolicyVersion, pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, None):
            return HttpResponse("Use the buttons on the version page.", status=405 if request.method != "POST" else 403)
        target = self._transition(request, version, transition)
        return HttpResponseRedirect(reverse("admin:policies_policyversion_change", args=[target.pk]))

    def _transition(self, request: HttpRequest, version: PolicyVersion, transition: str) -> PolicyVersion:
        """Run one transition and report the outcome as an admin message; return the version to show next."""
        try:
            if transition == "publish":
                done = policy_version_publish(version=version, by=signed_in_user(request.user))
                self.message_user(
                    request,
                    f"Published {done}; it applies to cases opened from {done.effective_from}.",
                    messages.SUCCESS,
                )
                return done
            if transition == "retire":
                done = policy_version_retire(version=version, by=signed_in_user(request.user))
                self.message_user(request, f"Retired {done}; open cases keep it.", messages.SUCCESS)
                return done
            draft = policy_version_draft_from(version=version, by=signed_in_user(request.user))
            self.message_user(
                request, f"Created draft version {draft.number} from version {version.number}.", messages.SUCCESS
            )
            return draft
        except ValidationError as exc:
            self.message_user(request, f"{version}: " + " ".join(exc.messages), messages.ERROR)
            return version

    @admin.action(description="Publish selected draft versions")
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        for version in queryset:
            self._transition(request, version, "publish")

    @admin.action(description="New draft from selected versions")
    def draft_from_selected(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        for version in queryset:
            self._transition(request, version, "draft")

    @admin.action(description="Retire selected published versions")
    def retire_selected(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> None:
        for version in queryset:
            self._transition(request, version, "retire")
