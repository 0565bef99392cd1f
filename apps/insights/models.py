"""Customer insights (one thing a customer said or did), the rules that route them, and each unit's inbox row."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.audit.models import AuditedModel
from apps.audit.querysets import AuditedQuerySet
from apps.evidence.constants import CustomerType
from apps.org.models import Employee, JourneyStage, OrgUnit, Touchpoint

from .constants import OPEN_STATUSES, Channel, InboxStatus, RouteReason


class Insight(AuditedModel):
    """One thing a customer said or did, as a survey, support tool, CSV file or internal customer reported it."""

    source_system = models.CharField(
        max_length=40,
        help_text="The tool it came from (e.g. qualtrics, zendesk, csv, portal). With the source id, it makes a "
        "re-sent insight the same insight.",
    )
    source_id = models.CharField(max_length=200, help_text="The insight's id in its source system.")
    text = models.TextField(blank=True, max_length=5000, help_text="What the customer said, verbatim.")
    score = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="The customer's score on a 0-10 scale, if they gave one (other scales are converted on arrival).",
    )
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.OTHER)
    said_on = models.DateField(help_text="When the customer said it.")
    customer_type = models.CharField(max_length=10, choices=CustomerType.choices, default=CustomerType.EXTERNAL)
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.PROTECT, related_name="insights")
    journey_stage = models.ForeignKey(
        JourneyStage, null=True, blank=True, on_delete=models.PROTECT, related_name="insights"
    )
    from_unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="insights_raised",
        help_text="For an internal customer: the group that receives the routed units' output and said this.",
    )
    raised_by = models.ForeignKey(
        Employee,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="insights_raised",
        help_text="The employee who raised it from the portal (internal customers).",
    )
    is_score_only = models.BooleanField(
        default=False, editable=False, help_text="A score without words: outcome data, not something to act on."
    )
    gaming_flags = models.JSONField(default=list, blank=True, editable=False)
    units = models.ManyToManyField(OrgUnit, through="InsightRoute", related_name="insights", blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["-said_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source_system", "source_id"], name="insight_unique_source"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=10), name="insight_score_0_10"
            ),
        ]
        indexes = [models.Index(fields=["said_on", "id"], name="insight_said_on_id_idx")]

    def __str__(self) -> str:
        words = self.text.strip() or (f"score {self.score}" if self.score is not None else "")
        return f"{words[:60]}{'…' if len(words) > 60 else ''} ({self.source_system}:{self.source_id})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.is_score_only = not self.text.strip() and self.score is not None
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class RoutingRule(AuditedModel):
    """Send insights about a touchpoint or a journey stage to a unit's inbox. HR edits these in the admin."""

    name = models.CharField(max_length=120, help_text="What the rule is for, e.g. 'Billing hears about invoices'.")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="insight_rules")
    touchpoint = models.ForeignKey(
        Touchpoint,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="insight_rules",
        help_text="Insights at this touchpoint go to the unit.",
    )
    journey_stage = models.ForeignKey(
        JourneyStage,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="insight_rules",
        help_text="Insights at any touchpoint of this stage (or naming the stage) go to the unit.",
    )
    active = models.BooleanField(default=True, help_text="Inactive rules are kept but route nothing.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["unit__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(touchpoint__isnull=False) | Q(journey_stage__isnull=False),
                name="insight_rule_has_target",
                violation_error_message="Choose a touchpoint or a journey stage for the rule to match.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InsightRouteQuerySet(AuditedQuerySet["InsightRoute"]):
    def open(self) -> InsightRouteQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class InsightRoute(AuditedModel):
    """An insight in one unit's inbox, with where that unit is in answering it."""

    insight = models.ForeignKey(Insight, on_delete=models.CASCADE, related_name="routes")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="insight_routes")
    reason = models.CharField(max_length=20, choices=RouteReason.choices)
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="routes")
    # Copied from the insight so the inbox (one unit, newest first) reads one index.
    said_on = models.DateField(editable=False)
    status = models.CharField(max_length=12, choices=InboxStatus.choices, default=InboxStatus.NEW)
    taken_by = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="insights_taken"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    no_action_reason = models.TextField(
        blank=True, max_length=2000, help_text="Why the unit will not act on it (required for 'No action')."
    )
    responded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the first response linked to it was verified."
    )
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Responded or closed with no action.")
    routed_at = models.DateTimeField(auto_now_add=True)

    objects = InsightRouteQuerySet.as_manager()

    class Meta:
        ordering = ["-said_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["insight", "unit"], name="insight_route_once_per_unit"),
        ]
        indexes = [
            models.Index(fields=["unit", "status", "-said_on", "-id"], name="insight_inbox_idx"),
            models.Index(fields=["unit", "-said_on", "-id"], name="insight_inbox_all_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.insight} → {self.unit}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.said_on is None:
            self.said_on = self.insight.said_on
        super().save(*args, **kwargs)  # type: ignore[arg-type]
