"""Customer-impact evidence in the Listen-Interpret-Respond-Monitor shape, its attachments and review."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q

from apps.audit.models import AuditedModel
from apps.audit.querysets import AuditedQuerySet
from apps.org.models import Employee, OrgUnit, Touchpoint
from apps.policies.models import EvidenceCategory

from . import gaming_store
from .constants import (
    EDITABLE_STATUSES,
    CustomerType,
    Direction,
    EvidenceStatus,
    MetricKind,
    PhraseLanguage,
    SolicitationKind,
    SourceType,
)
from .gaming import phrase_regex


class EvidenceQuerySet(AuditedQuerySet["Evidence"]):
    """Reusable filters for evidence."""

    def verified(self) -> EvidenceQuerySet:
        return self.filter(status=EvidenceStatus.VERIFIED)

    def current(self) -> EvidenceQuerySet:
        """The latest version of each item (older versions were replaced by a verified correction)."""
        return self.filter(is_current=True)

    def within(self, days: int, *, as_of: dt.date) -> EvidenceQuerySet:
        return self.filter(impact_date__gte=as_of - dt.timedelta(days=days), impact_date__lte=as_of)

    def awaiting_review(self) -> EvidenceQuerySet:
        return self.filter(status=EvidenceStatus.SUBMITTED)

    def owned_by(self, employee_ids: list[int]) -> EvidenceQuerySet:
        return self.filter(owner_id__in=employee_ids)


class Evidence(AuditedModel):
    """One piece of customer-impact evidence: what the customer said, what it meant, what was done, what changed."""

    owner = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="evidence")
    category = models.ForeignKey(EvidenceCategory, on_delete=models.PROTECT, related_name="evidence")
    title = models.CharField(max_length=200, help_text="One line a colleague would understand.")

    # Listen
    customer_quote = models.TextField(
        blank=True, max_length=5000, help_text="The customer's own words, as heard or written."
    )
    source_type = models.CharField(max_length=20, choices=SourceType.choices, blank=True)
    source_reference = models.CharField(
        max_length=200, blank=True, help_text="Where to find it: ticket number, interview date, call id, link."
    )
    # Interpret
    interpretation = models.TextField(blank=True, max_length=5000, help_text="What it meant for the customer.")
    # Respond
    response = models.TextField(blank=True, max_length=5000, help_text="What you did about it.")
    # Monitor
    metric_name = models.CharField(max_length=120, blank=True, help_text="e.g. first-contact resolution")
    metric_kind = models.CharField(max_length=12, choices=MetricKind.choices, blank=True)
    baseline = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    result = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    metric_unit = models.CharField(max_length=30, blank=True, help_text="e.g. %, minutes, defects per week")
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    metric_period = models.CharField(max_length=60, blank=True, help_text="e.g. Q1 2026 vs Q3 2026")

    customer_type = models.CharField(max_length=10, choices=CustomerType.choices, default=CustomerType.EXTERNAL)
    internal_customer_unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evidence_received",
        help_text="For an internal customer: the group that receives your output.",
    )
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    impact_date = models.DateField(help_text="When the customer felt the change.")

    status = models.CharField(
        max_length=20, choices=EvidenceStatus.choices, default=EvidenceStatus.DRAFT, editable=False
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    review_comment = models.TextField(blank=True, editable=False)
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    gaming_flags = models.JSONField(default=list, blank=True, editable=False)
    flags_acknowledged = models.BooleanField(default=False, editable=False)

    responds_to = models.ForeignKey(
        "insights.InsightRoute",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
        editable=False,
        help_text="The customer insight (in a unit's inbox) this item responds to.",
    )

    version = models.PositiveIntegerField(default=1, editable=False)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="correction", editable=False
    )
    is_current = models.BooleanField(default=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["-impact_date", "-id"]
        verbose_name_plural = "evidence"
        indexes = [
            models.Index(fields=["owner", "status", "impact_date"]),
            models.Index(fields=["status", "submitted_at"]),
            # The lists' order (newest impact first): a page, and a cursor page, read the index and stop early.
            models.Index(fields=["impact_date", "id"], name="evidence_impact_date_id_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer_type="external", internal_customer_unit__isnull=True)
                | Q(customer_type="internal", internal_customer_unit__isnull=False),
                name="internal_customer_has_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_outcome(self) -> bool:
        """Outcome-score evidence (a survey score): capped by policies."""
        return self.category.is_outcome or self.metric_kind == MetricKind.OUTCOME

    def clean(self) -> None:
        """Check that the parts of the story fit together; completeness is checked at submit."""
        errors: dict[str, str] = {}
        if self.customer_type == CustomerType.INTERNAL and self.internal_customer_unit_id is None:
            errors["internal_customer_unit"] = "Name the group that receives your output."
        if self.customer_type == CustomerType.EXTERNAL and self.internal_customer_unit_id is not None:
            errors["internal_customer_unit"] = "Only internal customers have a receiving group; clear this field."
        if self.customer_quote and not self.source_type:
            errors["source_type"] = "Say where the customer said this."
        has_metric = any(
            [self.metric_name, self.metric_kind, self.baseline is not None, self.result is not None, self.direction]
        )
        if has_metric:
            for name, label in (
                ("metric_name", "metric name"),
                ("metric_kind", "metric kind"),
                ("baseline", "baseline"),
                ("result", "result"),
                ("direction", "good direction"),
            ):
                value = getattr(self, name)
                if value in (None, ""):
                    errors[name] = f"A metric needs a {label}."
        if errors:
            raise ValidationError(errors)


def attachment_path(instance: Attachment, filename: str) -> str:
    """A random storage name: nothing of the uploaded name reaches the file system."""
    return f"attachments/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}"


class Attachment(AuditedModel):
    """A file backing an evidence item, checked by content, stored under a random name, served with permission."""

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=150, help_text="The uploaded name, sanitised.")
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class SolicitationPhrase(AuditedModel):
    """A phrasing that asks a customer for a score, matched at submission against every text of an evidence item."""

    phrase = models.TextField(
        max_length=2000,
        help_text='The words to look for, e.g. "we need a 10 from you". Case, accents, look-alike letters and '
        'extra spaces do not matter. With "is pattern" ticked: a regular expression over the normalised text.',
    )
    is_pattern = models.BooleanField(
        default=False, help_text="Treat the phrase as a regular expression (Python syntax) instead of plain words."
    )
    kind = models.CharField(max_length=20, choices=SolicitationKind.choices, default=SolicitationKind.REQUEST)
    language = models.CharField(max_length=5, choices=PhraseLanguage.choices, default=PhraseLanguage.ENGLISH)
    description = models.CharField(
        max_length=200, blank=True, help_text="An example of what it catches, for the next person reading the list."
    )
    active = models.BooleanField(default=True, help_text="Inactive phrases are kept but not matched.")
    built_in = models.BooleanField(
        default=False, editable=False, help_text="Shipped with the product; it can be switched off, not edited."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    # `objects` (an AuditedQuerySet manager) comes from AuditedModel.

    class Meta:
        ordering = ["language", "kind", "id"]
        verbose_name = "score-solicitation phrase"

    def __str__(self) -> str:
        return self.description or self.phrase[:80]

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        transaction.on_commit(gaming_store.invalidate)
        gaming_store.invalidate()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        result = super().delete(*args, **kwargs)
        transaction.on_commit(gaming_store.invalidate)
        gaming_store.invalidate()
        return result

    def clean(self) -> None:
        """A pattern must compile; a plain phrase must keep some words once normalised."""
        try:
            phrase_regex(self.phrase, is_pattern=self.is_pattern)
        except re.error as exc:
            raise ValidationError({"phrase": f"This does not work as a pattern: {exc}."}) from exc
