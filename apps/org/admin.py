"""HR admin for the organisation."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from apps.common.pagination import EstimatedCountAdminMixin

from .admin_filters import CustomerLayerFilter
from .forms import OrgImportForm
from .importers import COLUMNS, EXAMPLES, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, ImportKind, org_csv_import
from .models import Employee, JourneyStage, OrgUnit, Touchpoint


class CsvImportAdmin(admin.ModelAdmin):
    """A model admin whose changelist links to an 'Import CSV' page; the page hands the upload to org_csv_import."""

    import_kind: ImportKind
    change_list_template = "admin/org/change_list_import.html"

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        return [path("import/", self.admin_site.admin_view(self.import_view), name=name), *super().get_urls()]

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_import_permission": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        result = None
        form = OrgImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            result = org_csv_import(
                kind=self.import_kind,
                content=upload.read(),
                file_name=upload.name,
                dry_run=form.cleaned_data["dry_run"],
            )
            if result.ok and not result.dry_run:
                self.message_user(request, f"Import of {upload.name}: {result.summary()}", messages.SUCCESS)
                return redirect(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Import {self.opts.verbose_name_plural} from CSV",
            "form": form,
            "result": result,
            "error_lines": result.error_lines() if result else [],
            "columns": COLUMNS[self.import_kind],
            "example": EXAMPLES[self.import_kind],
            "max_megabytes": MAX_IMPORT_BYTES // 1_048_576,
            "max_rows": f"{MAX_IMPORT_ROWS:,}",
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, "admin/org/import_form.html", context)


@admin.register(OrgUnit)
class OrgUnitAdmin(CsvImportAdmin):
    import_kind = ImportKind.UNITS
    list_display = ("name", "code", "parent", "customer_layer", "employee_count", "active")
    list_filter = ("customer_layer", "active")
    search_fields = ("name", "code", "description")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    ordering = ("customer_layer", "name")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_employee_count=Count("employees"))

    @admin.display(description="employees", ordering="_employee_count")
    def employee_count(self, obj: OrgUnit) -> int:
        return obj._employee_count  # type: ignore[attr-defined]


@admin.register(Employee)
class EmployeeAdmin(EstimatedCountAdminMixin, CsvImportAdmin):
    """A company's people, up to the hundreds of thousands: no whole-table COUNT(*) (EstimatedCountAdminMixin)."""

    import_kind = ImportKind.EMPLOYEES
    show_full_result_count = False
    list_display = ("full_name", "employee_number", "org_unit", "job_level", "job_function", "manager", "active")
    list_filter = ("active", "job_level", "job_function", CustomerLayerFilter, "org_unit")
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
