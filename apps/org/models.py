"""The organisation: units in a tree with customer layers, employees, and the customer journey."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.utils import timezone as django_timezone

from apps.audit.models import AuditedModel
from apps.audit.querysets import AuditedQuerySet

from .constants import MAX_CUSTOMER_LAYER, JobFunction, JobLevel

code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]*$", "Use lower-case letters, digits, '-' and '_' (e.g. 'support-emea')."
)


def validate_timezone(value: str) -> None:
    """Accept only IANA time zone names such as 'Europe/Paris'."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known time zone; use an IANA name such as 'Europe/Paris'.")


class OrgUnitQuerySet(AuditedQuerySet["OrgUnit"]):
    """Reusable filters for org units."""

    def active(self) -> OrgUnitQuerySet:
        return self.filter(active=True)

    def in_layer(self, layer: int) -> OrgUnitQuerySet:
        return self.filter(customer_layer=layer)


class OrgUnit(AuditedModel):
    """A group in the organisation tree; its customer layer says how far it sits from external customers."""

    name = models.CharField(max_length=200)
    code = models.CharField(
        max_length=64, unique=True, validators=[code_validator], help_text="Stable identifier used in CSV imports."
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="Empty for the root.",
    )
    customer_layer = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_CUSTOMER_LAYER)],
        help_text="0 = works with external customers; 1 = serves layer 0; 2 = serves layer 1; and so on.",
    )
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "org unit"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Refuse a parent that would make the tree a loop."""
        if self.parent_id is None or self.pk is None:
            return
        seen = {self.pk}
        node = self.parent
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"parent": "An org unit cannot sit under itself or one of its own sub-units."})
            seen.add(node.pk)
            node = node.parent


class EmployeeQuerySet(AuditedQuerySet["Employee"]):
    """Reusable filters for employees."""

    def active(self) -> EmployeeQuerySet:
        return self.filter(active=True)

    def in_units(self, unit_ids: list[int]) -> EmployeeQuerySet:
        return self.filter(org_unit_id__in=unit_ids)


class Employee(AuditedModel):
    """A person in the organisation, whatever their level or function: the criteria apply to everyone."""

    employee_number = models.CharField(max_length=32, unique=True, help_text="HR system identifier, e.g. E01234.")
    full_name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="employee",
        help_text="The login of this person, if they use Ritual Criteria.",
    )
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="employees")
    job_level = models.CharField(max_length=20, choices=JobLevel.choices, default=JobLevel.PROFESSIONAL)
    job_function = models.CharField(max_length=20, choices=JobFunction.choices)
    manager = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone], help_text="IANA name, e.g. Europe/Paris."
    )
    active = models.BooleanField(default=True)
    left_on = models.DateField(
        null=True, blank=True, editable=False,
        help_text="The day the person left (set when 'active' goes off, cleared if they return); retention "
        "counts from it.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EmployeeQuerySet.as_manager()

    class Meta:
        ordering = ["full_name"]
        indexes = [models.Index(fields=["org_unit", "active"])]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.employee_number})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep `left_on` in step with `active`: the day a person leaves is set, and cleared if they return."""
        left_on = None if self.active else (self.left_on or django_timezone.localdate())
        if left_on != self.left_on:
            self.left_on = left_on
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "left_on" not in update_fields:
                kwargs["update_fields"] = [*update_fields, "left_on"]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Refuse a manager chain that loops back to this person."""
        if self.manager_id is None:
            return
        if self.pk is not None and self.manager_id == self.pk:
            raise ValidationError({"manager": "A person cannot be their own manager."})
        seen = {self.pk}
        node = self.manager
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"manager": "This manager chain would loop back to this person."})
            seen.add(node.pk)
            node = node.manager


class JourneyStage(AuditedModel):
    """A stage of the customer journey (discover, buy, onboard, use, get help, renew)."""

    name = models.CharField(max_length=100)
    code = models.CharField(max_length=64, unique=True, validators=[code_validator])
    order = models.PositiveSmallIntegerField(default=0)
    description = models.TextField(blank=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Touchpoint(AuditedModel):
    """A place where a customer meets the company (support chat, invoice, onboarding call)."""

    name = models.CharField(max_length=100)
    code = models.CharField(max_length=64, unique=True, validators=[code_validator])
    stage = models.ForeignKey(JourneyStage, on_delete=models.PROTECT, related_name="touchpoints")
    owner_unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="touchpoints",
        help_text="The group accountable for this touchpoint.",
    )
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["stage__order", "name"]

    def __str__(self) -> str:
        return self.name
