"""HR admin for evidence: read and search everything; changes go through the portal and API workflow."""

from django.contrib import admin

from .models import Attachment, Evidence


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ("original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    """Evidence is changed only through its workflow (submit, review, correct), so the admin is read-only."""

    list_display = ("title", "owner", "category", "status", "customer_type", "impact_date", "flagged", "version")
    list_filter = (
        "status", "category", "customer_type", "owner__org_unit__customer_layer", "is_current", "impact_date",
    )  # fmt: skip
    search_fields = ("title", "customer_quote", "owner__full_name", "owner__employee_number", "source_reference")
    list_select_related = ("owner", "category")
    date_hierarchy = "impact_date"
    inlines = [AttachmentInline]
    readonly_fields = [field.name for field in Evidence._meta.fields]

    @admin.display(boolean=True, description="flagged")
    def flagged(self, obj: Evidence) -> bool:
        return bool(obj.gaming_flags)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
