"""HR admin: the reminder log (read-only, with 'send again now' for failed and possibly sent rows) and digest
preferences."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.http import urlencode

from apps.common.pagination import EstimatedCountAdminMixin
from apps.common.roles import is_hr

from .constants import STATUS_EXPLANATIONS, ReminderStatus
from .messages import message_id_for
from .models import Reminder, ReminderPreference
from .services import RESENDABLE, reminders_resend


class NeedsHRFilter(admin.SimpleListFilter):
    """The two end states that need a person, apart: refused by the mail server, or possibly sent."""

    title = "needs HR"
    parameter_name = "needs_hr"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            (ReminderStatus.FAILED.value, "Failed: refused by the mail server (not sent)"),
            (ReminderStatus.UNCERTAIN.value, "Possibly sent: no definite answer (ask before resending)"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> QuerySet[Reminder]:
        if self.value() in {ReminderStatus.FAILED, ReminderStatus.UNCERTAIN}:
            return queryset.filter(status=self.value())
        return queryset


@admin.register(Reminder)
class ReminderAdmin(EstimatedCountAdminMixin, admin.ModelAdmin):
    """The sent log and outbox: written by the planner and the workflow only, so the admin reads it.

    Hundreds of thousands of rows a big cycle: no whole-table COUNT(*) (EstimatedCountAdminMixin) and no date
    hierarchy (it reads the distinct days of every row); the "due" filter has fixed choices.
    """

    list_display = (
        "created_at", "kind", "delivery", "recipient", "occasion", "due_at", "sent_at", "read_at", "attempts",
        "problem",
    )  # fmt: skip
    list_filter = (NeedsHRFilter, "kind", "status", "due_at", "cycle")
    search_fields = ("to_email", "recipient_name", "key", "reason")
    show_full_result_count = False
    readonly_fields = [field.name for field in Reminder._meta.fields] + ["message_id", "status_meaning"]
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

    @admin.display(description="status", ordering="status")
    def delivery(self, obj: Reminder) -> str:
        """The status; the two that need HR say what they mean when hovered."""
        label = obj.get_status_display()
        explanation = STATUS_EXPLANATIONS.get(obj.status)
        if explanation is None:
            return label
        return format_html('<span title="{}"><strong>{}</strong></span>', explanation, label)

    @admin.display(description="what the status means")
    def status_meaning(self, obj: Reminder) -> str:
        return STATUS_EXPLANATIONS.get(obj.status, "")

    @admin.display(description="Message-ID")
    def message_id(self, obj: Reminder) -> str:
        """The same on every attempt and resend: a second copy is recognisably the same message."""
        return message_id_for(obj.key)

    @admin.action(description="Send again now (failed or possibly sent reminders only)", permissions=["resend"])
    def send_again_now(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> TemplateResponse | None:
        """Failed rows go at once; when possibly sent ones are among them, a page first warns of a second copy."""
        chosen = list(queryset.order_by("pk"))
        uncertain = [r for r in chosen if r.status == ReminderStatus.UNCERTAIN]
        if uncertain and request.POST.get("post") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Send possibly sent reminders again?",
                "opts": self.model._meta,
                "uncertain": [(r, message_id_for(r.key)) for r in uncertain],
                "failed": [r for r in chosen if r.status == ReminderStatus.FAILED],
                "others": len([r for r in chosen if r.status not in RESENDABLE]),
                "explanation": STATUS_EXPLANATIONS[ReminderStatus.UNCERTAIN],
                "selected": [r.pk for r in chosen],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/reminders/reminder/send_again_confirmation.html", context)
        queued = reminders_resend(reminder_ids=[r.pk for r in chosen])
        skipped = len(chosen) - len(queued)
        if queued:
            self.message_user(request, f"{len(queued)} reminder(s) queued to be sent again now.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} reminder(s) left alone: only failed or possibly sent reminders can be sent again.",
                messages.WARNING,
            )
        return None

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
