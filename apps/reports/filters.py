"""The filters every report and export takes: cycle, ritual, org subtree and a date range."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from apps.cases.models import Cycle
from apps.org.models import OrgUnit
from apps.policies.models import RitualType


@dataclass(frozen=True, slots=True)
class ReportFilters:
    """Which cases and evidence a report covers; every field is optional (None = no restriction).

    - `cycle_id`, `ritual_type_id`: cases of that cycle / ritual; evidence of those cases' subjects and items
      linked to those cases. `cycle_ids`: the same for several cycles at once (the admin's export of the selected
      cycles); the dashboard, the API and the command give one cycle.
    - `unit_id`: the unit and everything under it (cases by their policy unit, evidence by its owner's unit).
    - `date_from`, `date_to` (both included): cases opened, evidence dated (impact date), reviews done, in the range.
    """

    cycle_id: int | None = None
    ritual_type_id: int | None = None
    unit_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    cycle_ids: tuple[int, ...] = ()

    @classmethod
    def for_cycles(cls, cycles: Sequence[Cycle]) -> ReportFilters:
        """The cases of these cycles: one cycle as `cycle_id`, several as `cycle_ids`; their ritual when they share
        one (a cycle implies its ritual, as in the filter form)."""
        rituals = {cycle.ritual_type_id for cycle in cycles}
        ritual = rituals.pop() if len(rituals) == 1 else None
        if len(cycles) == 1:
            return cls(cycle_id=cycles[0].pk, ritual_type_id=ritual)
        return cls(cycle_ids=tuple(sorted(cycle.pk for cycle in cycles)), ritual_type_id=ritual)

    def as_json(self) -> dict[str, Any]:
        """The filters as JSON (audit events, export jobs); dates in ISO 8601; `cycles` only when several."""
        data: dict[str, Any] = {
            "cycle": self.cycle_id,
            "ritual_type": self.ritual_type_id,
            "unit": self.unit_id,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }
        if self.cycle_ids:
            data["cycles"] = list(self.cycle_ids)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportFilters:
        """Rebuild filters saved with `as_json` (an export job's)."""

        def day(value: str | None) -> dt.date | None:
            return dt.date.fromisoformat(value) if value else None

        return cls(
            cycle_id=data.get("cycle"),
            ritual_type_id=data.get("ritual_type"),
            unit_id=data.get("unit"),
            date_from=day(data.get("date_from")),
            date_to=day(data.get("date_to")),
            cycle_ids=tuple(data.get("cycles") or ()),
        )

    @property
    def is_empty(self) -> bool:
        return not any((self.cycle_id, self.cycle_ids, self.ritual_type_id, self.unit_id, self.date_from, self.date_to))


class ReportFilterForm(forms.Form):
    """The filters as query-string fields (`cycle` id, `ritual` code, `unit` code, `from`, `to`), for pages,
    the API and the command alike."""

    cycle = forms.ModelChoiceField(
        queryset=Cycle.objects.select_related("ritual_type").order_by("-opens_on", "name"),
        required=False,
        empty_label="All cycles",
    )
    ritual = forms.ModelChoiceField(
        queryset=RitualType.objects.all(), to_field_name="code", required=False, empty_label="All rituals"
    )
    unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.order_by("customer_layer", "name"),
        to_field_name="code",
        required=False,
        empty_label="Whole organisation",
        help_text="The unit and every unit under it.",
    )
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None:
            # The query string says `from` / `to`; Python cannot name fields that way.
            data = data.copy()
            for short, name in (("from", "date_from"), ("to", "date_to")):
                if short in data and name not in data:
                    data[name] = data[short]
        super().__init__(data, *args, **kwargs)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data  # what Form.clean returns
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise ValidationError({"date_to": "The end of the date range cannot be before its start."})
        cycle, ritual = cleaned.get("cycle"), cleaned.get("ritual")
        if cycle and ritual and cycle.ritual_type_id != ritual.pk:
            raise ValidationError({"cycle": f"{cycle} is a {cycle.ritual_type} cycle, not {ritual}."})
        return cleaned

    def filters(self) -> ReportFilters:
        """The validated filters (call after is_valid())."""
        data = self.cleaned_data
        cycle, ritual = data.get("cycle"), data.get("ritual")
        return ReportFilters(
            cycle_id=cycle.pk if cycle else None,
            # A cycle belongs to one ritual: saying so lets ritual-wide reads (the inventory) follow the cycle.
            ritual_type_id=ritual.pk if ritual else (cycle.ritual_type_id if cycle else None),
            unit_id=data["unit"].pk if data.get("unit") else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

    def error_text(self) -> str:
        """All errors in one line, for the API and the command."""
        return " ".join(f"{'' if field == '__all__' else field + ': '}{message}" for field, messages in
                        self.errors.items() for message in messages)  # fmt: skip


def filters_from_query(query: Any) -> tuple[ReportFilters | None, ReportFilterForm]:
    """Parse filters from a query dict; None with the bound form when they are invalid."""
    form = ReportFilterForm(query)
    if not form.is_valid():
        return None, form
    return form.filters(), form
