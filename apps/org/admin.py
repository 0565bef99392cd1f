"""HR admin for the organisation."""

from django.contrib import admin
from django.db.models import Count

from .models import Employee, JourneyStage, OrgUnit, Touchpoint


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "parent", "customer_layer", "employee_count", "active")
    list_filter = ("customer_layer", "active")
    search_fields = ("name", "code", "description")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    ordering = ("customer_layer", "name")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).annotate(_employee_count=Count("employees"))

    @admin.display(description="employees", ordering="_employee_count")
    def employee_count(self, obj: OrgUnit) -> int:
        return obj._employee_count  # type: ignore[attr-defined]


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ("full_name", "employee_number", "org_unit", "job_level", "job_function", "manager", "active")
    list_filter = ("active", "job_level", "job_function", "org_unit__customer_layer", "org_unit")
    search_fields = ("full_name", "employee_number", "email", "org_unit__name")
    list_select_related = ("org_unit", "manager")
    autocomplete_fields = ("org_unit", "manager", "user")


@admin.register(JourneyStage)
class JourneyStageAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "order")
    search_fields = ("name", "code")
    ordering = ("order",)


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "stage", "owner_unit", "active")
    list_filter = ("stage", "active")
    search_fields = ("name", "code", "description")
    list_select_related = ("stage", "owner_unit")
    autocomplete_fields = ("owner_unit",)
