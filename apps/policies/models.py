"""Rituals, evidence categories and versioned, effective-dated policies of evidence requirements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from apps.audit.models import AuditedModel
from apps.audit.querysets import AuditedQuerySet
from apps.org.models import OrgUnit, code_validator

from .constants import VERSION_TRANSITION_FIELDS, CategoryKind, SubjectKind, VersionStatus
from .engine.requirement_kinds import KIND_CHOICES, KIND_HELP, RequirementKind


class RitualType(AuditedModel):
    """A business ritual whose criteria shape behaviour: promotion, raise, hiring, bonus, budget, recognition."""

    code = models.CharField(max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(max_length=100, unique=True)
    subject_kind = models.CharField(
        max_length=20,
        choices=SubjectKind.choices,
        default=SubjectKind.EMPLOYEE,
        help_text="Whom a case of this ritual is about: an employee, a hiring candidate, or an org unit.",
    )
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)
    share_exception_justification = models.BooleanField(
        "share the exception justification with the subject",
        default=False,
        help_text="Let the employee see HR's written justification of an exception granted on their case",
    )

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class EvidenceCategoryQuerySet(AuditedQuerySet["EvidenceCategory"]):
    """Reusable filters for evidence categories."""

    def active(self) -> EvidenceCategoryQuerySet:
        return self.filter(active=True)


class EvidenceCategory(AuditedModel):
    """A kind of customer-impact evidence; outcome scores are marked so policies can cap them."""

    code = models.CharField(max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=30, choices=CategoryKind.choices)
    is_outcome = models.BooleanField(
        default=False,
        help_text="Outcome scores (NPS, CSAT) invite gaming; policies may cap how many count.",
    )
    description = models.TextField(blank=True)
    example = models.TextField(blank=True, help_text="A short example shown to employees.")
    active = models.BooleanField(default=True)

    objects = EvidenceCategoryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "evidence categories"

    def __str__(self) -> str:
        return self.name


class PolicyQuerySet(AuditedQuerySet["Policy"]):
    """Reusable filters for policies."""

    def baseline(self) -> PolicyQuerySet:
        return self.filter(scope__isnull=True)

    def for_ritual(self, ritual_type_id: int) -> PolicyQuerySet:
        return self.filter(ritual_type_id=ritual_type_id)


class Policy(AuditedModel):
    """The criteria of one ritual: the company baseline (no scope) or a group's additions (scope = org unit)."""

    ritual_type = models.ForeignKey(RitualType, on_delete=models.PROTECT, related_name="policies")
    scope = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text="Empty = the company-wide baseline. An org unit = requirements that unit adds for itself "
        "and everyone under it, on top of the baseline (never instead of it).",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        ordering = ["ritual_type__order", "scope__name", "name"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(
                fields=["ritual_type"], condition=Q(scope__isnull=True), name="one_baseline_per_ritual"
            ),
            models.UniqueConstraint(fields=["ritual_type", "scope"], name="one_policy_per_ritual_and_scope"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_baseline(self) -> bool:
        return self.scope_id is None

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """Explain the one-baseline rule in HR's words instead of the constraint name."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            if (
                self.scope_id is None
                and Policy.objects.baseline().for_ritual(self.ritual_type_id).exclude(pk=self.pk).exists()
            ):
                raise ValidationError(
                    {"scope": f"{self.ritual_type} already has a company-wide baseline policy; edit that one."}
                ) from exc
            raise


class PolicyVersionQuerySet(AuditedQuerySet["PolicyVersion"]):
    """Reusable filters for policy versions."""

    def drafts(self) -> PolicyVersionQuerySet:
        return self.filter(status=VersionStatus.DRAFT)

    def in_force(self, on: dt.date) -> PolicyVersionQuerySet:
        """Versions that apply to a case opened on `on` (published or since retired, dates covering `on`)."""
        return self.filter(
            status__in=[VersionStatus.PUBLISHED, VersionStatus.RETIRED],
            effective_from__lte=on,
        ).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))


class PolicyVersion(AuditedModel):
    """One effective-dated version of a policy; immutable once published, so decisions can be explained later."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(editable=False)
    status = models.CharField(max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT, editable=False)
    effective_from = models.DateField(help_text="First day this version applies to newly opened cases.")
    effective_to = models.DateField(
        null=True,
        blank=True,
        help_text="Last day it applies (inclusive). Empty = until a later version or retirement ends it.",
    )
    notes = models.TextField(blank=True, help_text="What changed and why; shown in the history.")
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="derived", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [models.UniqueConstraint(fields=["policy", "number"], name="unique_version_number")]
        indexes = [models.Index(fields=["status", "effective_from"])]

    def __str__(self) -> str:
        return f"{self.policy} v{self.number} ({self.get_status_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse any change to a published or retired version other than its retirement."""
        if self.pk is not None:
            stored: Mapping[str, Any] | None = PolicyVersion.objects.filter(pk=self.pk).values().first()
            if stored and stored["status"] != VersionStatus.DRAFT:
                changed = {
                    field.attname
                    for field in self._meta.concrete_fields
                    if stored[field.attname] != getattr(self, field.attname)
                }
                locked = changed - VERSION_TRANSITION_FIELDS
                if locked:
                    raise ValidationError(
                        f"Version {self.number} of {self.policy} is {stored['status']} and cannot be edited "
                        f"(tried to change: {', '.join(sorted(locked))}). Create a new draft from it instead."
                    )
        if self.number is None:
            last = PolicyVersion.objects.filter(policy_id=self.policy_id).order_by("-number").first()
            self.number = 1 if last is None else last.number + 1
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Only drafts may be deleted; published criteria stay for the record."""
        if self.status != VersionStatus.DRAFT:
            raise ValidationError(f"Version {self.number} is {self.status}; only drafts can be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def clean(self) -> None:
        """Effective dates must form a range."""
        if self.effective_to and self.effective_from and self.effective_to < self.effective_from:
            if self.status != VersionStatus.RETIRED:
                raise ValidationError({"effective_to": "The last day cannot be before the first day."})


class RequirementQuerySet(AuditedQuerySet["Requirement"]):
    """Reusable filters for requirements."""

    def of_versions(self, version_ids: list[int]) -> RequirementQuerySet:
        return self.filter(version_id__in=version_ids)


class Requirement(AuditedModel):
    """One evidence requirement of a policy version, e.g. '2 verified customer stories in 12 months'."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="requirements")
    kind = models.CharField(
        max_length=30,
        choices=KIND_CHOICES,
        help_text=" ".join(f"{kind.value}: {text}" for kind, text in KIND_HELP.items()),
    )
    params = models.JSONField(
        default=dict,
        blank=True,
        help_text='Parameters of the kind, as JSON, e.g. {"count": 2, "categories": ["customer_story"], '
        '"within_days": 365}. Missing optional parameters take their defaults.',
    )
    label = models.CharField(
        max_length=200, blank=True, help_text="Short name shown on checklists; generated from the params if empty."
    )
    weight = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Relative importance (1-100)."
    )
    help_text = models.TextField(blank=True, help_text="Guidance for employees on how to meet this requirement.")
    order = models.PositiveSmallIntegerField(default=0)

    objects = RequirementQuerySet.as_manager()

    class Meta:
        ordering = ["version", "order", "id"]

    def __str__(self) -> str:
        return self.label or self.kind

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse changes to requirements of a version that is no longer a draft."""
        _refuse_unless_draft(self.version_id)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        _refuse_unless_draft(self.version_id)
        return super().delete(*args, **kwargs)

    @property
    def is_modifier(self) -> bool:
        return self.kind == RequirementKind.OUTCOME_CAP

    def clean(self) -> None:
        """Validate params against the kind's schema and the known category and touchpoint codes."""
        from .services import requirement_params_clean

        self.params = requirement_params_clean(kind=self.kind, params=self.params)


def _refuse_unless_draft(version_id: int | None) -> None:
    """Raise when the version holding a requirement is published or retired."""
    if version_id is None:
        return
    status = PolicyVersion.objects.filter(pk=version_id).values_list("status", flat=True).first()
    if status is not None and status != VersionStatus.DRAFT:
        raise ValidationError(
            f"This requirement belongs to a {status} policy version and cannot be changed. "
            "Create a new draft from that version instead."
        )


class RequirementTemplateQuerySet(AuditedQuerySet["RequirementTemplate"]):
    """Reusable filters for requirement templates."""

    def active(self) -> RequirementTemplateQuerySet:
        return self.filter(active=True)


class RequirementTemplate(AuditedModel):
    """A ready-made requirement HR copies into a draft version instead of writing it from scratch."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, help_text="When to use it and why; shown when choosing templates.")
    kind = models.CharField(max_length=30, choices=KIND_CHOICES)
    params = models.JSONField(default=dict, blank=True)
    label = models.CharField(
        max_length=200, blank=True, help_text="Copied to the requirement: the short name shown on checklists."
    )
    help_text = models.TextField(
        blank=True, help_text="Copied to the requirement: guidance for employees on how to meet it."
    )
    suggested_ritual = models.ForeignKey(
        RitualType,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requirement_templates",
        help_text="The ritual this template suits best; it can be used in any ritual's policy.",
    )
    active = models.BooleanField(default=True, help_text="Inactive templates are not offered on draft versions.")
    built_in = models.BooleanField(
        default=False, editable=False, help_text="Shipped with the product; HR can edit or deactivate it."
    )

    objects = RequirementTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Validate params against the kind's schema and the known category and touchpoint codes."""
        from .services import requirement_params_clean

        self.params = requirement_params_clean(kind=self.kind, params=self.params)
