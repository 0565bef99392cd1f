"""HR admin for rituals, categories and versioned policies."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property

from apps.common.errors import InvalidTransition
from apps.common.users import signed_in_user

from .constants import VersionStatus
from .engine.requirement_kinds import KIND_HELP, KIND_LABELS
from .forms import PARAM_FIELDS, RequirementForm, RequirementFormSet, RequirementTemplateForm
from .models import EvidenceCategory, Policy, PolicyVersion, Requirement, RequirementTemplate, RitualType
from .selectors import (
    category_names_get,
    group_additions_inventory,
    policy_version_fingerprint,
    requirement_sentence,
    requirement_template_choices,
)
from .services import (
    policy_version_draft_from,
    policy_version_publish,
    policy_version_publish_check,
    policy_version_retire,
    requirement_templates_apply,
)


def kind_help_rows() -> list[tuple[str, str, str]]:
    """(code, label, explanation with example) for every requirement kind, for the admin's help panel."""
    return [(kind.value, KIND_LABELS[kind], text) for kind, text in KIND_HELP.items()]


@admin.register(RitualType)
class RitualTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "subject_kind", "order", "active", "share_exception_justification")
    list_filter = ("subject_kind", "active", "share_exception_justification")
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


class RequirementInline(admin.StackedInline):
    """The requirement editor of a draft: one field per parameter, shown for the chosen kind only (with JS)."""

    model = Requirement
    form = RequirementForm
    formset = RequirementFormSet
    extra = 0
    ordering = ("order", "pk")
    readonly_fields = ("sentence",)
    fieldsets = (
        (None, {"fields": (("kind", "order", "weight"),)}),
        ("What counts", {"fields": PARAM_FIELDS}),
        ("Shown to employees", {"fields": ("sentence", "label", "help_text")}),
    )

    class Media:
        js = ("policies/requirement_editor.js",)

    @cached_property
    def category_names(self) -> dict[str, str]:
        """Category names for the sentences; an inline instance lives for one request."""
        return category_names_get()

    @admin.display(description="in plain words")
    def sentence(self, obj: Requirement) -> str:
        if obj.pk is None:
            return "Shown after saving."
        return requirement_sentence(obj.kind, obj.params, self.category_names) or "-"

    def has_add_permission(self, request, obj=None):
        return (obj is None or obj.is_draft) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return (obj is None or obj.is_draft) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or obj.is_draft) and super().has_delete_permission(request, obj)


class PublishedRequirementInline(admin.TabularInline):
    """The requirements of a published or retired version, read-only, each as a plain-language sentence."""

    model = Requirement
    fields = ("order", "sentence", "label", "weight", "help_text")
    readonly_fields = fields
    extra = 0
    ordering = ("order", "pk")
    can_delete = False
    verbose_name_plural = "requirements (immutable)"

    @cached_property
    def category_names(self) -> dict[str, str]:
        return category_names_get()

    @admin.display(description="requirement in plain words")
    def sentence(self, obj: Requirement) -> str:
        return requirement_sentence(obj.kind, obj.params, self.category_names) or obj.kind

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _applies_text(version: PolicyVersion) -> str:
    """ "cases opened from 1 Jan 2027" (to D when the version has a last day)."""
    text = f"cases opened from {date_format(version.effective_from, 'j M Y')}"
    if version.effective_to:
        text += f" to {date_format(version.effective_to, 'j M Y')}"
    return text


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
    actions = ["publish_selected", "draft_from_selected", "retire_selected"]
    change_form_template = "admin/policies/policyversion/change_form.html"
    readonly_fields = ("number", "status", "based_on", "created_by", "published_by", "published_at", "retired_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PolicyVersion]:
        return super().get_queryset(request).annotate(_requirements=Count("requirements"))

    @admin.display(description="requirements", ordering="_requirements")
    def requirement_count(self, obj: PolicyVersion) -> int:
        return obj._requirements  # type: ignore[attr-defined]

    def get_inlines(self, request, obj):
        return [RequirementInline] if obj is None or obj.is_draft else [PublishedRequirementInline]

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
            if version is not None and version.is_draft:
                extra_context["template_choices"] = requirement_template_choices()
            extra_context["version_obj"] = version
        return super().changeform_view(request, object_id, form_url, extra_context)

    # The buttons of a draft's page submit the change form itself: the edits on the page are validated and saved
    # first (an invalid form shows its errors and goes no further), then the button's action runs on what was saved.
    def response_add(self, request, obj, post_url_continue=None):
        return self._after_save(request, obj) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        return self._after_save(request, obj) or super().response_change(request, obj)

    def _after_save(self, request: HttpRequest, obj: PolicyVersion) -> HttpResponse | None:
        """Run the action of the button that submitted the saved form, if it was not a plain save."""
        if "_publish" in request.POST:
            self.message_user(request, f"Saved {obj}. Check what will be published, then confirm.", messages.INFO)
            return HttpResponseRedirect(reverse("admin:policies_policyversion_publish_confirm", args=[obj.pk]))
        if "_preview" in request.POST:
            self.message_user(request, f"Saved {obj}.", messages.INFO)
            return HttpResponseRedirect(reverse("admin:cases_case_preview", args=[obj.pk]))
        if "_new_draft" in request.POST:
            target = self._transition(request, obj, "draft")
            return HttpResponseRedirect(reverse("admin:policies_policyversion_change", args=[target.pk]))
        if "_apply_templates" in request.POST:
            self._apply_templates(request, obj)
            return HttpResponseRedirect(reverse("admin:policies_policyversion_change", args=[obj.pk]))
        return None

    def _apply_templates(self, request: HttpRequest, version: PolicyVersion) -> None:
        chosen = [int(value) for value in request.POST.getlist("_templates") if value.isdigit()]
        if not chosen:  # also what the Enter key in a field sends, as this is the form's first button
            self.message_user(request, f"Saved {version}. No template was ticked, so none was added.", messages.INFO)
            return
        try:
            added = requirement_templates_apply(version=version, template_ids=chosen, by=signed_in_user(request.user))
        except (ValidationError, InvalidTransition, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, f"Saved {version}; no template added: {text}", messages.ERROR)
            return
        self.message_user(
            request,
            f"Saved {version} and added {len(added)} requirement{pluralize(len(added))} from templates: "
            + "; ".join(str(requirement) for requirement in added)
            + ". Adjust them below if needed.",
            messages.SUCCESS,
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/publish/confirm/",
                view(self.publish_confirm_view),
                name="policies_policyversion_publish_confirm",
            ),
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

    def publish_confirm_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Show what publishing will freeze (sentences, dates) and publish on confirmation, if nothing changed since."""
        version = get_object_or_404(PolicyVersion.objects.select_related("policy__ritual_type", "policy__scope"), pk=pk)
        if not self.has_change_permission(request, version):
            raise PermissionDenied
        change_url = reverse("admin:policies_policyversion_change", args=[version.pk])
        if request.method == "POST":
            try:
                done = policy_version_publish(
                    version=version, by=signed_in_user(request.user), reviewed=request.POST.get("reviewed", "")
                )
            except InvalidTransition as exc:
                self.message_user(request, exc.message, messages.WARNING)
                return HttpResponseRedirect(request.path)
            except ValidationError as exc:
                self.message_user(request, f"Not published: {' '.join(exc.messages)}", messages.ERROR)
                return HttpResponseRedirect(change_url)
            self.message_user(request, f"Published {done}; it applies to {_applies_text(done)}.", messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        try:
            ended = policy_version_publish_check(version=version)
        except ValidationError as exc:
            self.message_user(
                request, f"Not published: {' '.join(exc.messages)} Your edits are saved as a draft.", messages.ERROR
            )
            return HttpResponseRedirect(change_url)
        names = category_names_get()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Publish {version}?",
            "version": version,
            "applies": _applies_text(version),
            "ended": ended,
            "requirements": [
                (requirement, requirement_sentence(requirement.kind, requirement.params, names))
                for requirement in version.requirements.order_by("order", "pk")
            ],
            "reviewed": policy_version_fingerprint(version),
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/policies/policyversion/publish_confirm.html", context)

    def transition_view(self, request: HttpRequest, pk: int, transition: str) -> HttpResponse:
        """Publish, retire or copy one version (POST only); a draft's own page publishes through its form instead."""
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
                self.message_user(request, f"Published {done}; it applies to {_applies_text(done)}.", messages.SUCCESS)
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


class RequirementTemplateChangeList(ChangeList):
    """Gives each listed template its sentence, with the category names read once for the page."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        names = category_names_get()
        for template in self.result_list:
            template.sentence_text = requirement_sentence(template.kind, template.params, names)


@admin.register(RequirementTemplate)
class RequirementTemplateAdmin(admin.ModelAdmin):
    """HR's library of ready-made requirements, copied into drafts from a version's page."""

    form = RequirementTemplateForm
    list_display = ("name", "sentence", "kind", "suggested_ritual", "active", "built_in")
    list_filter = ("kind", "suggested_ritual", "active", "built_in")
    search_fields = ("name", "description", "label", "help_text")
    list_select_related = ("suggested_ritual",)
    readonly_fields = ("sentence", "built_in")
    fieldsets = (
        (None, {"fields": ("name", "description", "suggested_ritual", "active", "built_in")}),
        ("Requirement", {"fields": ("kind", *PARAM_FIELDS)}),
        ("Shown to employees", {"fields": ("sentence", "label", "help_text")}),
    )

    class Media:
        js = ("policies/requirement_editor.js",)

    def get_changelist(self, request, **kwargs):
        return RequirementTemplateChangeList

    @admin.display(description="requirement in plain words")
    def sentence(self, obj: RequirementTemplate) -> str:
        if obj.pk is None:
            return "Shown after saving."
        text = getattr(obj, "sentence_text", None)
        if text is None:
            text = requirement_sentence(obj.kind, obj.params, category_names_get())
        return text or "-"

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.built_in:
            return False
        return super().has_delete_permission(request, obj)
