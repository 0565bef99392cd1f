"""Query-string filters for evidence lists (API): unknown choices are refused with 400, never ignored."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from apps.common.limits import MAX_DATABASE_ID
from apps.policies.models import EvidenceCategory

from .constants import CustomerType, EvidenceStatus
from .models import Evidence, EvidenceQuerySet
from .permissions import employee_of


class IdField(forms.IntegerField):
    """A database id: a whole number from 1 to the largest id a column holds (beyond it would overflow: a 500)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_DATABASE_ID)
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.Filter):
    """A whole-number id ("abc", "1.5", "0" or an id too large for the database are refused with 400)."""

    field_class = IdField


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is an error rather than silently no filter."""

    widget = forms.TextInput

    # NullBooleanField.to_python returns None too; the stubs keep BooleanField's bool.
    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        text = str(value).strip().lower() if value is not None else ""
        if text == "":
            return None
        if text in {"true", "1"}:
            return True
        if text in {"false", "0"}:
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.BooleanFilter):
    """A boolean query parameter that refuses values other than true/false."""

    field_class = StrictBooleanField


@extend_schema_field(OpenApiTypes.STR)
class CodeMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """One or more objects by code; an unknown code is a 400."""


class StableOrderingFilter(django_filters.OrderingFilter):
    """Order by the asked fields, then by id, so pages never repeat or skip rows that tie."""

    def filter(self, qs: EvidenceQuerySet, value: Any) -> EvidenceQuerySet:
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        tie_breaker = "-id" if ordering[-1].startswith("-") else "id"
        return qs.order_by(*ordering, tie_breaker)


class EvidenceFilter(django_filters.FilterSet):
    """Filters of `/api/evidence/`; each one narrows what the caller may already see."""

    status = django_filters.MultipleChoiceFilter(
        choices=EvidenceStatus.choices, help_text="One or more statuses (repeat the parameter)."
    )
    category = CodeMultipleChoiceFilter(
        field_name="category__code",
        to_field_name="code",
        queryset=EvidenceCategory.objects.all(),
        help_text="One or more category codes (repeat the parameter).",
    )
    customer_type = django_filters.ChoiceFilter(choices=CustomerType.choices)
    owner = IdFilter(field_name="owner_id", help_text="Employee id of the owner.")
    impact_date_from = django_filters.DateFilter(
        field_name="impact_date", lookup_expr="gte", help_text="Impact on or after this date (YYYY-MM-DD)."
    )
    impact_date_to = django_filters.DateFilter(
        field_name="impact_date", lookup_expr="lte", help_text="Impact on or before this date (YYYY-MM-DD)."
    )
    is_current = StrictBooleanFilter(
        help_text="true: only the latest version of each item; false: only replaced versions."
    )
    mine = StrictBooleanFilter(method="filter_mine", help_text="true: only my own items; false: only other people's.")
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=200,
        help_text="Text found in the title or the customer quote (case-insensitive).",
    )
    ordering = StableOrderingFilter(
        fields=("impact_date", "submitted_at", "created_at"),
        help_text="impact_date, submitted_at or created_at; prefix with '-' for descending.",
    )

    class Meta:
        model = Evidence
        fields: list[str] = []

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_mine(self, queryset: EvidenceQuerySet, name: str, value: bool | None) -> EvidenceQuerySet:
        if value is None:
            return queryset
        employee = employee_of(getattr(self.request, "user", None))
        if employee is None:
            return queryset.none() if value else queryset
        return queryset.filter(owner_id=employee.pk) if value else queryset.exclude(owner_id=employee.pk)

    def filter_search(self, queryset: EvidenceQuerySet, name: str, value: str) -> EvidenceQuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(customer_quote__icontains=value))
