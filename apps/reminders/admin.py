"""HR admin: the reminder log (read-only, with 'send again now' for failed rows) and digest preferences."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.http import urlencode

from apps.common.roles import is_hr

from .models import Reminder, ReminderPreference
from .services import reminders_resend


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """The sent log and outbox: written by the planner and the workflow only, so the admin reads it."""

    list_display = (
        "created_at", "kind", "status", "recipient", "occasion", "due_at", "sent_at", "read_at", "attempts", "problem",
    )  # fmt: skip
    list_filter = ("kind", "status", "due_at", "cycle")
    search_fields = ("to_email", "recipient_name", "key", "reason")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Reminder._meta.fields]
    actions = ["send_again_now"]
    list_per_page = 100

    @admin.display(description="recipient", ordering="to_email")
    def recipient(self, obj: Reminder) -> str:
        """Name and address; the link lists everything sent to the same address."""
        query = urlencode({"to_email": obj.to_email})
        return format_html(
            '<a href="?{}" title="Only this recipient">{}</a> &lt;{}&gt;', query, obj.recipient_name, obj.to_email
        )

    @admin.display(description="error or note")
    def problem(self, obj: Reminder) -> str:
        return (obj.last_error[:120] + "…") if len(obj.last_error) > 120 else obj.last_error

    @admin.action(description="Send again now (failed reminders only)", permissions=["resend"])
    def send_again_now(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> None:
        chosen = list(queryset.values_list("pk", flat=True))
        queued = reminders_resend(reminder_ids=chosen)
        skipped = len(chosen) - len(queued)
        if queued:
            self.message_user(request, f"{len(queued)} reminder(s) queued to be sent again now.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} reminder(s) left alone: only failed reminders can be sent again.",
                messages.WARNING,
            )

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return is_hr(request.user) and request.user.has_perm("reminders.view_reminder")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        return lookup in {"to_email", "case__id__exact", "evidence__id__exact"} or super().lookup_allowed(
            lookup, value, request
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Reminder | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Reminder | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reminder]:
        return super().get_queryset(request).defer("context")


@admin.register(ReminderPreference)
class ReminderPreferenceAdmin(admin.ModelAdmin):
    """Who receives the weekly digest (on unless turned off); other reminders cannot be turned off."""

    list_display = ("employee", "weekly_digest", "note", "updated_at")
    list_filter = ("weekly_digest",)
    search_fields = ("employee__full_name", "employee__employee_number", "employee__email")
    list_select_related = ("employee",)
    autocomplete_fields = ("employee",)
