"""Forms of the inbox pages and of "Tell another group"; the rules live in apps.insights.inbox."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from apps.insights.constants import Channel, InboxStatus, ScoreBand
from apps.insights.inbox import checked_no_action_reason
from apps.org.models import OrgUnit, Touchpoint

from .forms import PortalForm


class InboxFilterForm(PortalForm):
    """Filters of a unit's inbox; invalid values are ignored (they simply do not filter)."""

    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), required=False, empty_label=None, label="Inbox of")
    status = forms.ChoiceField(choices=[("", "All statuses"), *InboxStatus.choices], required=False)
    channel = forms.ChoiceField(choices=[("", "All channels"), *Channel.choices], required=False)
    touchpoint = forms.ModelChoiceField(
        queryset=Touchpoint.objects.order_by("name"), required=False, empty_label="All touchpoints"
    )
    score_band = forms.ChoiceField(choices=[("", "Any score"), *ScoreBand.choices], required=False, label="Score")

    FILTERS = ("status", "channel", "touchpoint", "score_band")

    def __init__(self, *args: Any, units: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit_field = cast(forms.ModelChoiceField, self.fields["unit"])
        # The units the person may read, already loaded: the choices cost no query.
        unit_field.queryset = OrgUnit.objects.filter(pk__in=[unit.pk for unit in units])
        unit_field.choices = [(unit.pk, unit.name) for unit in units]

    def filtered(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.FILTERS)


class NoActionForm(PortalForm):
    """Why the unit will not act on an insight."""

    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Why no action",
        help_text="A sentence at least: the unit's managers and HR read it, and it stays on the record.",
    )
    confirm = forms.BooleanField(
        label="Close this insight with no action for the unit.",
        error_messages={"required": "Tick the box to confirm."},
    )

    def clean_reason(self) -> str:
        try:
            return checked_no_action_reason(self.cleaned_data["reason"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["reason"]) from exc


# "Billing (billing)": the datalist's label of a unit, from which the code is read back.
UNIT_LABEL = re.compile(r"\(([^()]+)\)\s*$")


def unit_label(unit: OrgUnit) -> str:
    return f"{unit.name} ({unit.code})"


class RaiseForm(PortalForm):
    """An internal customer tells another group what their group needs from it."""

    to_unit = forms.CharField(
        max_length=250,
        label="Group",
        help_text="Start typing the group's name and pick it from the list; not your own group.",
        widget=forms.TextInput(attrs={"list": "unit-options", "autocomplete": "off"}),
    )
    touchpoint = forms.ModelChoiceField(
        queryset=Touchpoint.objects.filter(active=True).order_by("name"),
        required=False,
        empty_label="No particular touchpoint",
        help_text="Where in the journey this happens, if it is about one touchpoint.",
    )
    text = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="What your group needs",
        help_text="In your own words, as you would tell them: what you receive from them, what goes wrong, what "
        "would help. It arrives in their inbox from your group, with your name.",
    )

    def __init__(self, *args: Any, units: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = units

    def clean_to_unit(self) -> OrgUnit:
        value = self.cleaned_data["to_unit"].strip()
        match = UNIT_LABEL.search(value)
        wanted = (match.group(1) if match else value).strip().casefold()
        for unit in self.units:
            if wanted in (unit.code.casefold(), unit.name.casefold()):
                return unit
        raise ValidationError("Pick a group from the list (its name, or its code).")
