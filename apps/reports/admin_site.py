"""The project's admin site: the HR home groups the admin's lists by task, not by app, and shows what waits for HR.

It is the default site (`apps.reports.apps.HRAdminConfig.default_site`), so everything registered with `admin.site`
or `@admin.register` lands here. Only the index and the navigation sidebar change; app pages stay as Django builds them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from apps.common.text import ControlCharacterFormMixin

from .hr_home import needs_you
from .permissions import can_view_reports

# Sections of the HR home, in the order HR meets them in a year. Each model of the table goes to its section, in the
# table's order; a model the table does not name goes to OTHER (a product app) or FRAMEWORK (Django or a library).
POLICIES = "Policies"
CYCLES = "Cycles and cases"
EVIDENCE = "Evidence"
PEOPLE = "People"
AUDIT = "Audit and settings"
OTHER = "Other"
FRAMEWORK = "Framework and sign-in security"
SECTION_ORDER = (POLICIES, CYCLES, EVIDENCE, PEOPLE, AUDIT, OTHER, FRAMEWORK)

SECTIONS: dict[str, str] = {
    "policies.RitualType": POLICIES,
    "policies.EvidenceCategory": POLICIES,
    "policies.Policy": POLICIES,
    "policies.PolicyVersion": POLICIES,
    "policies.RequirementTemplate": POLICIES,
    "policies.Requirement": POLICIES,
    "cases.Cycle": CYCLES,
    "cases.Case": CYCLES,
    "cases.PolicyException": CYCLES,
    "cases.Attestation": CYCLES,
    "cases.ApprovalRoute": CYCLES,
    "cases.ApprovalStep": CYCLES,
    "cases.Delegation": CYCLES,
    "evidence.Evidence": EVIDENCE,
    "evidence.Attachment": EVIDENCE,
    "evidence.SolicitationPhrase": EVIDENCE,
    "org.JourneyStage": EVIDENCE,
    "org.Touchpoint": EVIDENCE,
    "insights.Insight": EVIDENCE,
    "insights.RoutingRule": EVIDENCE,
    "insights.InsightRoute": EVIDENCE,
    "org.OrgUnit": PEOPLE,
    "org.Employee": PEOPLE,
    "auth.User": PEOPLE,
    "auth.Group": PEOPLE,
    "audit.AuditEvent": AUDIT,
    "reminders.Reminder": AUDIT,
    "reminders.ReminderPreference": AUDIT,
    "reminders.Notification": AUDIT,
    "reports.ExportJob": AUDIT,
    "privacy.RetentionRule": AUDIT,
    "privacy.LegalHold": AUDIT,
    "authtoken.TokenProxy": FRAMEWORK,
    "authtoken.Token": FRAMEWORK,
    "axes.AccessAttempt": FRAMEWORK,
    "axes.AccessFailureLog": FRAMEWORK,
    "axes.AccessLog": FRAMEWORK,
}
MODEL_ORDER = {label: position for position, label in enumerate(SECTIONS)}
# The product's own apps live under this package; other unknown models are a framework's or a library's.
PRODUCT_PACKAGE = "apps."


def section_of(model: type) -> str:
    """The HR home section of a registered model."""
    opts = model._meta  # type: ignore[attr-defined]
    section = SECTIONS.get(opts.label)
    if section is not None:
        return section
    return OTHER if opts.app_config.name.startswith(PRODUCT_PACKAGE) else FRAMEWORK


def section_slug(name: str) -> str:
    """A CSS-friendly id for a section ("Cycles and cases" -> "task-cycles-and-cases")."""
    return "task-" + "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def group_by_task(app_list: list[dict[str, Any]], *, index_url: str) -> list[dict[str, Any]]:
    """Regroup Django's per-app list into task sections (same dict shape, so admin templates render it)."""
    models_by_section: dict[str, list[dict[str, Any]]] = {name: [] for name in SECTION_ORDER}
    for app in app_list:
        for model in app["models"]:
            models_by_section[section_of(model["model"])].append(model)
    sections = []
    for name in SECTION_ORDER:
        models = models_by_section[name]
        if not models:
            continue
        models.sort(key=lambda m: (MODEL_ORDER.get(m["model"]._meta.label, len(MODEL_ORDER)), str(m["name"])))
        slug = section_slug(name)
        sections.append(
            {
                "name": name,
                "app_label": slug,
                "app_url": f"{index_url}#{slug}",
                "has_module_perms": True,
                "models": models,
            }
        )
    return sections


class HRAdminSite(admin.AdminSite):
    """The admin with a home for HR: lists grouped by task, links to the dashboard and portal, what needs HR now."""

    site_header = "Ritual Criteria administration"
    site_title = "Ritual Criteria"
    index_title = "HR home"

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Register as Django does, with every admin form (and inline form) refusing control characters next to the
        field (`ControlCharacterFormMixin`), whichever form the ModelAdmin names."""
        admin_class = admin_class or admin.ModelAdmin
        form = options.get("form", admin_class.form)
        if not issubclass(form, ControlCharacterFormMixin):
            options["form"] = _refusing_control_characters(form)
        inlines = options.get("inlines", admin_class.inlines)
        if any(not issubclass(inline.form, ControlCharacterFormMixin) for inline in inlines):
            options["inlines"] = [
                inline
                if issubclass(inline.form, ControlCharacterFormMixin)
                else type(inline.__name__, (inline,), {"form": _refusing_control_characters(inline.form)})
                for inline in inlines
            ]
        super().register(model_or_iterable, admin_class, **options)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            # One app's page lists that app's models, as Django does.
            return app_list
        return group_by_task(app_list, index_url=reverse("admin:index", current_app=self.name))

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        items = needs_you(user=request.user)
        context = {
            "needs_you": items,
            "needs_you_total": sum(item.count for item in items),
            "dashboard_url": reverse("reports:dashboard") if can_view_reports(request.user) else None,
            "portal_url": _portal_url(),
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)


def _portal_url() -> str | None:
    try:
        return reverse("portal:home")
    except NoReverseMatch:
        return None


def _refusing_control_characters(form: type[forms.BaseForm]) -> type[forms.BaseForm]:
    """The same form, refusing control characters in any submitted value next to its field."""
    return type(form.__name__, (ControlCharacterFormMixin, form), {"__module__": form.__module__})
