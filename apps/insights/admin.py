"""HR admin for customer insights: the insights (facts, read-only, importable from CSV), the routing rules HR edits,
and the inbox rows (read-only: units work them on the portal)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from apps.common.pagination import EstimatedCountAdminMixin
from apps.common.users import signed_in_user
from apps.org.admin_filters import CustomerLayerFilter

from .csv_import import COLUMNS, EXAMPLE, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, insights_csv_import
from .forms import InsightImportForm, RoutingRuleForm
from .models import Insight, InsightRoute, RoutingRule

EXCERPT_CHARS = 80
IMPORT_PERMISSION = "insights.add_insight"


class FlaggedFilter(admin.SimpleListFilter):
    """Insights whose text solicits a score (flagged like evidence)."""

    title = "score solicitation"
    parameter_name = "flagged"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Flagged"), ("no", "Not flagged")]

    def queryset(self, request: Any, queryset: QuerySet[Insight]) -> QuerySet[Insight]:
        if self.value() == "yes":
            return queryset.exclude(gaming_flags=[])
        if self.value() == "no":
            return queryset.filter(gaming_flags=[])
        return queryset


class RoutedFilter(admin.SimpleListFilter):
    """Insights that reached no unit's inbox (no rule, no unit named, no owner of the touchpoint)."""

    title = "routing"
    parameter_name = "routed"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Unrouted"), ("yes", "In at least one inbox")]

    def queryset(self, request: Any, queryset: QuerySet[Insight]) -> QuerySet[Insight]:
        routed = Exists(InsightRoute.objects.filter(insight_id=OuterRef("pk")))
        if self.value() == "no":
            return queryset.filter(~routed)
        if self.value() == "yes":
            return queryset.filter(routed)
        return queryset


class RouteLayerFilter(CustomerLayerFilter):
    layer_lookup = "unit__customer_layer"
    title = "unit's customer layer"


class InsightRouteInline(admin.TabularInline):
    """The inboxes an insight reached, as they stand (read-only)."""

    model = InsightRoute
    fields = ("unit", "reason", "rule", "status", "taken_by", "taken_at", "responded_at", "closed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[InsightRoute]:
        return super().get_queryset(request).select_related("unit", "rule", "taken_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Insight)
class InsightAdmin(EstimatedCountAdminMixin, admin.ModelAdmin):
    """Insights are facts: read-only here; they arrive by API, CSV import (the 'Import insights' page) or portal."""

    change_list_template = "admin/insights/insight/change_list.html"
    show_full_result_count = False
    list_display = ("said_on", "excerpt", "score", "channel", "touchpoint", "unit_codes", "flagged")
    list_filter = (
        "channel", "customer_type", "touchpoint", "journey_stage", "is_score_only", FlaggedFilter, RoutedFilter,
    )  # fmt: skip
    list_select_related = ("touchpoint",)
    date_hierarchy = None
    ordering = ("-said_on", "-id")
    inlines = [InsightRouteInline]
    fields = (
        "source_system", "source_id", "text", "score", "channel", "said_on", "customer_type", "touchpoint",
        "journey_stage", "from_unit", "raised_by", "is_score_only", "gaming_flags", "received_at",
    )  # fmt: skip
    readonly_fields = fields

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        # The source id exactly (what a tool's log shows). On PostgreSQL, at 100,000+ insights, a text search
        # would read the whole table; the embedded SQLite also searches the words.
        if connection.vendor == "postgresql":
            return ("=source_id",)
        return ("=source_id", "text")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Insight]:
        routes = InsightRoute.objects.select_related("unit").only("id", "insight_id", "unit__code").order_by("id")
        return super().get_queryset(request).prefetch_related(Prefetch("routes", queryset=routes))

    @admin.display(description="what the customer said")
    def excerpt(self, obj: Insight) -> str:
        words = obj.text.strip() or "(score only)"
        return words if len(words) <= EXCERPT_CHARS else f"{words[:EXCERPT_CHARS]}…"

    @admin.display(description="units")
    def unit_codes(self, obj: Insight) -> str:
        return ", ".join(route.unit.code for route in obj.routes.all()) or "unrouted"

    @admin.display(description="flagged", boolean=True)
    def flagged(self, obj: Insight) -> bool:
        return bool(obj.gaming_flags)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # no hand-typed insights: they come from a source (import, API, portal)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # The CSV import page ----------------------------------------------------------------------------------------

    def has_import_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(IMPORT_PERMISSION)

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        return [path("import/", self.admin_site.admin_view(self.import_view), name=name), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "has_import_permission": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload, dry run (what would be created, what is already stored, each wrong line), then import."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        result = None
        form = InsightImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            result = insights_csv_import(
                content=upload.read(),
                file_name=upload.name,
                source_system=form.cleaned_data["source_system"],
                by=signed_in_user(request.user),
                dry_run=form.cleaned_data["dry_run"],
            )
            if result.ok and not result.dry_run:
                self.message_user(request, f"Import of {upload.name}: {result.summary()}", messages.SUCCESS)
                return redirect(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import insights from CSV",
            "form": form,
            "result": result,
            "error_lines": result.error_lines() if result else [],
            "columns": COLUMNS,
            "example": EXAMPLE,
            "max_megabytes": MAX_IMPORT_BYTES // 1_048_576,
            "max_rows": f"{MAX_IMPORT_ROWS:,}",
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, "admin/insights/insight/import_form.html", context)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Which unit hears about which touchpoint or journey stage; every change is in the audit trail."""

    form = RoutingRuleForm
    list_display = ("name", "unit", "touchpoint", "journey_stage", "active")
    list_filter = (
        "active",
        ("unit", admin.RelatedOnlyFieldListFilter),
        ("touchpoint", admin.RelatedOnlyFieldListFilter),
        ("journey_stage", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("unit", "touchpoint", "journey_stage")
    search_fields = ("name", "unit__name", "unit__code")
    autocomplete_fields = ("unit",)


@admin.register(InsightRoute)
class InsightRouteAdmin(EstimatedCountAdminMixin, admin.ModelAdmin):
    """Every unit's inbox rows, as the units left them (they work them on the portal)."""

    show_full_result_count = False
    list_display = ("insight", "unit", "reason", "status", "said_on", "taken_by", "responded_at")
    list_filter = ("status", "reason", RouteLayerFilter)
    list_select_related = ("insight", "unit", "taken_by")
    search_fields = ("=insight__source_id", "unit__code")
    ordering = ("-said_on", "-id")
    fields = (
        "insight", "unit", "reason", "rule", "said_on", "status", "taken_by", "taken_at", "no_action_reason",
        "responded_at", "closed_at", "routed_at",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
