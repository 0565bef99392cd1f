"""Reminders: one row per (kind, object, recipient, occasion), which is at once the sent log and the outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.audit.models import AuditedModel
from apps.audit.querysets import AuditedQuerySet
from apps.cases.models import Case, Cycle
from apps.evidence.models import Evidence
from apps.org.models import Employee

from .constants import ReminderKind, ReminderStatus


class ReminderQuerySet(AuditedQuerySet["Reminder"]):
    """Reusable filters for reminders."""

    def pending(self) -> ReminderQuerySet:
        return self.filter(status=ReminderStatus.PENDING)

    def due(self, now: object) -> ReminderQuerySet:
        """Pending rows whose sending time has come."""
        return self.pending().filter(due_at__lte=now)

    def to_publish(self, now: object, republish_before: object) -> ReminderQuerySet:
        """Due rows never handed to the broker, or handed over so long ago that the message may be lost."""
        return self.due(now).filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=republish_before))

    def stuck_sending(self, claimed_before: object) -> ReminderQuerySet:
        """Rows a worker claimed but never finished (it died or hung mid-send)."""
        return self.filter(status=ReminderStatus.SENDING, claimed_at__lte=claimed_before)


class Reminder(AuditedModel):
    """One notification to one person for one occasion: its unique key makes it one notice, sent at least once."""

    key = models.CharField(max_length=200, unique=True, help_text="kind:object:recipient:occasion")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    occasion = models.CharField(max_length=80, help_text="Why now, e.g. 7 days before the deadline (d-7).")
    status = models.CharField(max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    # No index of their own: the (cycle, kind, occasion) and (evidence, kind) indexes below serve these lookups.
    cycle = models.ForeignKey(Cycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    evidence = models.ForeignKey(
        Evidence, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    recipient_employee = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_email = models.EmailField()
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_timezone = models.CharField(max_length=64, default="UTC")
    reason = models.CharField(max_length=300, help_text="Why this reminder was planned, in one line.")
    context = models.JSONField(default=dict, blank=True, help_text="What the e-mail shows, as planned.")
    due_at = models.DateTimeField(help_text="Not before this instant: within the recipient's sending hours.")
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a send task was last handed to the broker (empty: not yet)."
    )
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker took the row to send it.")
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(
        null=True, blank=True, help_text="When the recipient saw it in the portal's notification list (empty: unread)."
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["cycle", "kind", "occasion"]),
            models.Index(fields=["evidence", "kind"]),
            models.Index(fields=["to_email"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to_email} ({self.occasion})"


class ReminderPreference(AuditedModel):
    """What an employee chose to receive; only the weekly digest can be turned off."""

    employee = models.OneToOneField(Employee, on_delete=models.CASCADE, related_name="reminder_preference")
    weekly_digest = models.BooleanField(
        default=True, help_text="Weekly digest of the team's open cases and reviews (managers only)."
    )
    note = models.CharField(max_length=200, blank=True, help_text="Who asked for the change, and when.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        verbose_name = "reminder preference"

    def __str__(self) -> str:
        state = "receives" if self.weekly_digest else "opted out of"
        return f"{self.employee.full_name} {state} the weekly digest"


class PendingEvidenceEvent(models.Model):
    """An evidence event (submitted, verified, …) whose notifications the worker has yet to write.

    Queued in the transaction of the change, so it commits or rolls back with it, and taken by the worker moments
    later (`services.reminders_drain_events`, a drain task published after commit, and every sweep). The one
    product table the audit trail leaves out (`apps.py` excludes it): each row repeats an event
    that is on the trail already and lives for seconds; the reminders written from it are audited.
    """

    # A plain integer, not a foreign key: a deleted draft's event is dropped by the worker, and deleting an item
    # needs no look into this queue.
    evidence_id = models.BigIntegerField()
    event = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"evidence {self.evidence_id}: {self.event}"
