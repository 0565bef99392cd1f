"""Retention rules and legal holds (apps.privacy.retention applies them; erasure respects holds)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from apps.audit.models import AuditedModel
from apps.audit.querysets import AuditedQuerySet
from apps.cases.models import Case
from apps.org.models import Employee

from .constants import ErasureCause, RetentionKind


class RetentionRuleQuerySet(AuditedQuerySet["RetentionRule"]):
    def enabled(self) -> RetentionRuleQuerySet:
        return self.filter(enabled=True)


class RetentionRule(AuditedModel):
    """How long one kind of personal data is kept; the retention job removes what is older (unless on hold)."""

    kind = models.CharField(max_length=30, choices=RetentionKind.choices, unique=True)
    keep_days = models.PositiveIntegerField(
        help_text="Kept this many days after the moment the kind starts counting from (see the kind's description)."
    )
    enabled = models.BooleanField(default=True, help_text="A disabled rule removes nothing; its dry run still lists.")
    note = models.CharField(max_length=300, blank=True, help_text="Why this period: the law or policy it follows.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = RetentionRuleQuerySet.as_manager()

    class Meta:
        ordering = ["kind"]
        constraints = [models.CheckConstraint(condition=Q(keep_days__gte=1), name="privacy_rule_keeps_a_day")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.keep_days} days"


class LegalHoldQuerySet(AuditedQuerySet["LegalHold"]):
    def active(self) -> LegalHoldQuerySet:
        return self.filter(released_at__isnull=True)


class LegalHold(AuditedModel):
    """While active, nothing of the person (or the case) is removed by retention or erased."""

    employee = models.ForeignKey(
        Employee,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="legal_holds",
        help_text="Hold everything about this person.",
    )
    # SET_NULL: only a released hold can still point at a case that retention removes (an active one keeps it).
    case = models.ForeignKey(
        Case,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="legal_holds",
        help_text="Hold this case (and its candidate's data).",
    )
    reason = models.TextField(help_text="The matter or request that requires keeping the data, e.g. a claim number.")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    placed_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    released_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        # The privacy steps' own permissions (the HR group holds them through grant_hr_permissions).
        permissions = [
            ("erase_person", "Can erase a person's personal data"),
            ("export_person", "Can export a person's personal data"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(employee__isnull=False, case__isnull=True)
                | Q(employee__isnull=True, case__isnull=False)
                | Q(employee__isnull=True, case__isnull=True, released_at__isnull=False),
                name="privacy_hold_on_one_person_or_case",
            )
        ]

    def __str__(self) -> str:
        return f"Legal hold #{self.pk} on {self.target_label}"

    @property
    def target_label(self) -> str:
        """What the hold names, without personal content: "employee E00012" or "case #12"."""
        if self.employee_id is not None:
            return f"employee {self.employee.employee_number}" if self.employee else f"employee #{self.employee_id}"
        if self.case_id is not None:
            return f"case #{self.case_id}"
        return "a case removed after the hold was released"

    def clean(self) -> None:
        if (self.employee_id is None) == (self.case_id is None):
            raise ValidationError("Place the hold on one person or one case.")

    @property
    def active(self) -> bool:
        return self.released_at is None


class CandidateErasureQuerySet(AuditedQuerySet["CandidateErasure"]):
    pass


class CandidateErasure(AuditedModel):
    """One hiring case whose candidate's data was erased: the case stays counted, shown as "Erased candidate #N".

    The row is what says "already done": retention never lists the case again.
    """

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="candidate_erasure", editable=False)
    cause = models.CharField(max_length=30, choices=ErasureCause.choices, editable=False)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    erased_at = models.DateTimeField(auto_now_add=True)

    objects = CandidateErasureQuerySet.as_manager()

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Candidate of case #{self.case_id} erased ({self.get_cause_display()})"
