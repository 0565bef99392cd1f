"""Cycles of a ritual, cases judged by pinned policy versions, approval routes, exceptions and decisions."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from apps.audit.models import AuditedModel
from apps.audit.querysets import AuditedQuerySet
from apps.evidence.models import Evidence
from apps.org.models import Employee, OrgUnit
from apps.policies.models import PolicyVersion, Requirement, RitualType

from .constants import (
    ACTIVE_PREVIEW_STATUSES,
    DECIDED_STATUSES,
    DEFAULT_REMINDER_OFFSETS,
    PREVIEW_ABANDONED_AFTER_HOURS,
    AttestationRole,
    CaseStatus,
    CycleStatus,
    ExceptionStatus,
    PreviewStatus,
    StepDecision,
    StepRole,
)

User = settings.AUTH_USER_MODEL


def default_offsets() -> list[int]:
    return list(DEFAULT_REMINDER_OFFSETS)


class CycleQuerySet(AuditedQuerySet["Cycle"]):
    """Reusable filters for cycles."""

    def open(self) -> CycleQuerySet:
        return self.filter(status=CycleStatus.OPEN)


class Cycle(AuditedModel):
    """One round of a ritual (e.g. 'Promotions 2026-H2') with its deadlines and reminder offsets."""

    ritual_type = models.ForeignKey(RitualType, on_delete=models.PROTECT, related_name="cycles")
    name = models.CharField(max_length=120, unique=True, help_text="e.g. Promotions 2026-H2")
    opens_on = models.DateField()
    evidence_deadline = models.DateField(help_text="Evidence dated or verified after this day does not count.")
    decision_deadline = models.DateField()
    reminder_offsets = models.JSONField(
        default=default_offsets,
        blank=True,
        help_text="Days before the evidence deadline to remind people whose cases are short, e.g. [14, 7, 1].",
    )
    status = models.CharField(max_length=10, choices=CycleStatus.choices, default=CycleStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CycleQuerySet.as_manager()

    class Meta:
        ordering = ["-opens_on", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Deadlines in order; reminder offsets a short list of distinct positive whole days."""
        errors: dict[str, str] = {}
        if self.opens_on and self.evidence_deadline and self.evidence_deadline < self.opens_on:
            errors["evidence_deadline"] = "The evidence deadline cannot be before the cycle opens."
        if self.evidence_deadline and self.decision_deadline and self.decision_deadline < self.evidence_deadline:
            errors["decision_deadline"] = "The decision deadline cannot be before the evidence deadline."
        offsets = self.reminder_offsets
        if not isinstance(offsets, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 < n <= 365 for n in offsets
        ):
            errors["reminder_offsets"] = "Give a list of whole days between 1 and 365, e.g. [14, 7, 1]."
        elif len(set(offsets)) != len(offsets) or len(offsets) > 10:
            errors["reminder_offsets"] = "Offsets must be distinct, at most 10 of them."
        else:
            self.reminder_offsets = sorted(offsets, reverse=True)
        if errors:
            raise ValidationError(errors)

    def evidence_as_of(self, today: dt.date) -> dt.date:
        """The date evidence is judged at: today, but never after the evidence deadline."""
        return min(today, self.evidence_deadline)


class CaseQuerySet(AuditedQuerySet["Case"]):
    """Reusable filters for cases."""

    def open(self) -> CaseQuerySet:
        return self.filter(status=CaseStatus.OPEN)

    def decided(self) -> CaseQuerySet:
        return self.filter(status__in=DECIDED_STATUSES)

    def for_employee_subjects(self, employee_ids: list[int]) -> CaseQuerySet:
        return self.filter(subject_employee_id__in=employee_ids)


class Case(AuditedModel):
    """A ritual decision about one subject, judged by the policy versions in force when it opened."""

    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="cases")
    subject_employee = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.PROTECT, related_name="cases_as_subject"
    )
    subject_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="cases_as_subject",
        help_text="For rituals about a group (budget expansion).",
    )  # fmt: skip
    candidate_name = models.CharField(max_length=200, blank=True, help_text="For hiring cases.")
    candidate_email = models.EmailField(
        blank=True, help_text="Required for hiring cases: one live case per candidate e-mail and cycle."
    )
    policy_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="+", editable=False,
        help_text="The unit whose effective policy applies (the subject's unit, or the hiring unit).",
    )  # fmt: skip
    nominated_by = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="nominations"
    )
    opened_at = models.DateTimeField(editable=False)
    opened_on = models.DateField(editable=False, help_text="Policy versions in force on this day are pinned.")
    pinned_versions = models.ManyToManyField(PolicyVersion, related_name="pinned_cases", editable=False)
    evidence_links = models.ManyToManyField(Evidence, through="CaseEvidence", related_name="cases", blank=True)
    status = models.CharField(max_length=30, choices=CaseStatus.choices, default=CaseStatus.OPEN, editable=False)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decision_note = models.TextField(blank=True, editable=False)
    frozen_evaluation = models.JSONField(null=True, blank=True, editable=False)
    compliant = models.BooleanField(
        null=True, editable=False, help_text="Compliance at the last evaluation (at decision, once decided)."
    )
    evaluated_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(subject_employee__isnull=False, subject_unit__isnull=True, candidate_name="")
                    | Q(subject_employee__isnull=True, subject_unit__isnull=False, candidate_name="")
                    | (Q(subject_employee__isnull=True, subject_unit__isnull=True) & ~Q(candidate_name=""))
                ),
                name="case_has_exactly_one_subject",
            ),
            models.UniqueConstraint(
                fields=["cycle", "subject_employee"],
                condition=Q(subject_employee__isnull=False) & ~Q(status="withdrawn"),
                name="one_live_case_per_employee_and_cycle",
            ),
            models.UniqueConstraint(
                fields=["cycle", "subject_unit"],
                condition=Q(subject_unit__isnull=False) & ~Q(status="withdrawn"),
                name="one_live_case_per_unit_and_cycle",
            ),
            models.UniqueConstraint(
                Lower("candidate_email"),
                F("cycle"),
                condition=~Q(candidate_email="") & ~Q(status="withdrawn"),
                name="one_live_case_per_candidate_and_cycle",
                violation_error_message="This candidate already has a live case in this cycle.",
            ),
        ]
        indexes = [
            models.Index(fields=["cycle", "status"]),
            models.Index(fields=["status", "compliant"]),
            # The API list's order and its keyset (cursor) pages.
            models.Index(fields=["opened_at", "id"], name="case_opened_at_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_name} - {self.cycle}"

    @property
    def subject_name(self) -> str:
        if self.subject_employee is not None:
            return self.subject_employee.full_name
        if self.subject_unit is not None:
            return self.subject_unit.name
        return self.candidate_name

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


class CaseEvidence(AuditedModel):
    """Evidence linked to a case by hand (candidates and org units; employees' own evidence counts by itself)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links")
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="case_links")
    linked_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=200, blank=True, help_text="Why this item supports the case.")
    linked_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "evidence"], name="evidence_linked_once")]

    def __str__(self) -> str:
        return f"{self.evidence} on {self.case}"


class CaseRequirementResultQuerySet(models.QuerySet["CaseRequirementResult"]):
    """Reusable filters for stored results (plain bulk writes: the table is derived data, not audited)."""

    def short(self) -> CaseRequirementResultQuerySet:
        return self.filter(met=False)


class CaseRequirementResult(models.Model):
    """An open case's current result for one requirement of its pinned policy, stored so reports need no engine run.

    Derived data: `apps.cases.evaluations` rewrites it in the transaction of every service that changes an input
    (opening, links, attestations, evidence reviews) and in the nightly sweep (date windows), and deletes a case's
    rows at its decision (the case keeps its frozen evaluation). Modifiers (outcome cap) are not stored.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="requirement_results")
    # The case's cycle, copied (a case never changes cycle): per-cycle reads and sweeps need no join.
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="+")
    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="+")
    met = models.BooleanField()
    have = models.PositiveIntegerField()
    need = models.PositiveIntegerField()
    counted_ids = models.JSONField(default=list, blank=True, help_text="Ids of the evidence items that counted.")
    as_of = models.DateField(help_text="The day the evidence was judged at: today then, or the evidence deadline.")
    evaluated_at = models.DateTimeField()

    objects = CaseRequirementResultQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "requirement"], name="one_stored_result_per_requirement")
        ]
        indexes = [
            # "Open cases short of requirement R" and the blocking ranking's GROUP BY.
            models.Index(fields=["requirement", "met"], name="cases_result_req_met"),
            models.Index(fields=["cycle", "requirement", "met"], name="cases_result_cycle_req_met"),
        ]

    def __str__(self) -> str:
        return f"{'met' if self.met else 'not met'} ({self.have}/{self.need}): requirement {self.requirement_id}"


class Attestation(AuditedModel):
    """A named role vouching for a case (what an 'attestation' requirement asks for)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attestations")
    role = models.CharField(max_length=20, choices=AttestationRole.choices)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "role"], name="one_attestation_per_role")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} attestation on {self.case}"


class PolicyException(AuditedModel):
    """A written exception that lets a non-compliant case be approved; requested by one person, granted by HR."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="exceptions")
    justification = models.TextField(help_text="Why the criteria should not apply here, in full sentences.")
    waived_requirements = models.ManyToManyField(Requirement, related_name="+")
    status = models.CharField(max_length=10, choices=ExceptionStatus.choices, default=ExceptionStatus.REQUESTED)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        verbose_name = "policy exception"
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="requested"), name="one_pending_exception_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"Exception for {self.case} ({self.get_status_display()})"


class ApprovalRoute(AuditedModel):
    """The ordered approval steps of a ritual, e.g. manager recommends, then HR approves."""

    ritual_type = models.OneToOneField(RitualType, on_delete=models.PROTECT, related_name="approval_route")
    name = models.CharField(max_length=120)

    objects = AuditedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name


class ApprovalStep(AuditedModel):
    """One step of a route; the compliance gate applies when the last step approves."""

    route = models.ForeignKey(ApprovalRoute, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=80, help_text="e.g. Manager recommends")
    role = models.CharField(max_length=20, choices=StepRole.choices)
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.PROTECT, help_text="Only for the 'named group' role."
    )

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["route", "order"]
        constraints = [models.UniqueConstraint(fields=["route", "order"], name="unique_step_order")]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    def clean(self) -> None:
        if self.role == StepRole.GROUP and self.group_id is None:
            raise ValidationError({"group": "Choose the group that acts on this step."})
        if self.role != StepRole.GROUP and self.group_id is not None:
            raise ValidationError({"group": "Only a 'named group' step has a group."})


class Delegation(AuditedModel):
    """Someone acts for another person on approval steps during a period, shown as 'on behalf of'."""

    principal = models.ForeignKey(User, on_delete=models.CASCADE, related_name="delegations_given")
    delegate = models.ForeignKey(User, on_delete=models.CASCADE, related_name="delegations_received")
    step = models.ForeignKey(
        ApprovalStep, null=True, blank=True, on_delete=models.CASCADE, related_name="delegations",
        help_text="Limit the delegation to one step; empty = every step the principal can act on.",
    )  # fmt: skip
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return f"{self.delegate} for {self.principal} ({self.starts_on} to {self.ends_on})"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The delegation cannot end before it starts."})
        if self.principal_id and self.principal_id == self.delegate_id:
            raise ValidationError({"delegate": "Delegate to someone else."})


class StepRecord(AuditedModel):
    """What happened at one approval step of a case: who, when, for whom, the decision and the comment."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="step_records")
    step = models.ForeignKey(ApprovalStep, null=True, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField()
    step_name = models.CharField(max_length=80)
    decision = models.CharField(max_length=10, choices=StepDecision.choices)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    on_behalf_of = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["case", "order"]
        constraints = [models.UniqueConstraint(fields=["case", "order"], name="one_record_per_step")]

    def __str__(self) -> str:
        return f"{self.step_name}: {self.get_decision_display()}"


class PreviewJobQuerySet(AuditedQuerySet["PreviewJob"]):
    """Reusable filters for policy preview jobs."""

    def active(self) -> PreviewJobQuerySet:
        """Queued or running jobs asked for recently: a job whose worker died long ago no longer blocks a new one."""
        since = timezone.now() - dt.timedelta(hours=PREVIEW_ABANDONED_AFTER_HOURS)
        return self.filter(status__in=ACTIVE_PREVIEW_STATUSES, created_at__gte=since)


class PreviewJob(AuditedModel):
    """A preview of a draft policy version against the open cases it would cover, run by a worker in chunks."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="preview_jobs")
    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+", editable=False)
    status = models.CharField(max_length=10, choices=PreviewStatus.choices, default=PreviewStatus.QUEUED)
    as_of = models.DateField(
        help_text="The day the cases are judged at (each cycle's evidence deadline at the latest)."
    )
    total = models.PositiveIntegerField(
        default=0, help_text="Open cases the draft's policy covers, counted at the start."
    )
    examined = models.PositiveIntegerField(null=True, blank=True, help_text="Open cases evaluated, once done.")
    would_fail = models.PositiveIntegerField(
        null=True, blank=True, help_text="Cases that meet their policy now but not with the draft."
    )
    would_pass = models.PositiveIntegerField(
        null=True, blank=True, help_text="Cases short now that would meet the draft."
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = PreviewJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Preview of {self.version_id} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_PREVIEW_STATUSES

    @property
    def flips(self) -> int:
        return (self.would_fail or 0) + (self.would_pass or 0)


class PreviewFlip(models.Model):
    """One open case whose compliance a preview job found would flip under the draft (derived data, not audited)."""

    job = models.ForeignKey(PreviewJob, on_delete=models.CASCADE, related_name="flip_rows")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    # Copied from the case so the result page filters without a join.
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    would_be_compliant = models.BooleanField(help_text="True: would start to meet the policy; False: would fall short.")
    newly_unmet = models.JSONField(default=list, blank=True, help_text="Labels of requirements it would newly miss.")
    newly_met = models.JSONField(default=list, blank=True, help_text="Labels of requirements it would newly meet.")

    class Meta:
        ordering = ["job", "case"]
        constraints = [models.UniqueConstraint(fields=["job", "case"], name="one_flip_per_job_and_case")]
        indexes = [models.Index(fields=["job", "would_be_compliant"], name="cases_flip_job_direction")]

    def __str__(self) -> str:
        return f"case {self.case_id}: {'would pass' if self.would_be_compliant else 'would fail'}"

    @property
    def now_compliant(self) -> bool:
        return not self.would_be_compliant
