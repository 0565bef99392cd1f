"""Admin forms for cases: nominations, opening cases, decisions, exceptions and attestations."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from apps.common.text import ControlCharacterFormMixin
from apps.org.constants import JobLevel
from apps.org.models import Employee, OrgUnit

NOTE = forms.Textarea(attrs={"rows": 3, "cols": 60})


class NominationsForm(ControlCharacterFormMixin, forms.Form):
    file = forms.FileField(help_text="CSV, UTF-8, at most 5 MB; see the columns below.")


class DecisionNoteForm(ControlCharacterFormMixin, forms.Form):
    comment = forms.CharField(widget=NOTE, help_text="Shown to the people involved.")


class EmployeeNumberField(forms.CharField):
    """An employee picked by their employee number (the number HR sees on every list)."""

    def clean(self, value: Any) -> Employee | None:
        number = super().clean(value)
        if not number:
            return None
        employee = Employee.objects.active().select_related("org_unit").filter(employee_number=number.strip()).first()
        if employee is None:
            raise forms.ValidationError(f"No active employee numbered '{number.strip()}'.")
        return employee


class OneEmployeeForm(ControlCharacterFormMixin, forms.Form):
    """Open a case for one person, picked from the search results."""

    employee = forms.ModelChoiceField(
        queryset=Employee.objects.active().select_related("org_unit"),
        widget=forms.Select(attrs={"size": 10}),
        help_text="Search by name or employee number above, then pick the person.",
    )
    nominated_by = EmployeeNumberField(required=False, help_text="Optional: the nominator's employee number.")


class CandidateForm(ControlCharacterFormMixin, forms.Form):
    """Open a hiring case for one candidate."""

    candidate_name = forms.CharField(max_length=200)
    candidate_email = forms.EmailField(help_text="One live case per candidate e-mail and cycle.")
    nominated_by = EmployeeNumberField(help_text="The hiring manager's employee number; their unit's policy applies.")


class OneUnitForm(ControlCharacterFormMixin, forms.Form):
    """Open a case about one org unit (budget expansion)."""

    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.active().order_by("name"))
    nominated_by = EmployeeNumberField(required=False, help_text="Optional: the nominator's employee number.")


class OpeningFilterForm(ControlCharacterFormMixin, forms.Form):
    """Open cases for everyone matching a filter; an empty filter means every active employee."""

    unit = forms.ModelChoiceField(
        queryset=OrgUnit.objects.active().order_by("name"),
        required=False,
        empty_label="Every unit",
        help_text="Everyone in this unit and the units under it.",
    )
    job_level = forms.ChoiceField(choices=[("", "Every level"), *JobLevel.choices], required=False)


class CommentForm(ControlCharacterFormMixin, forms.Form):
    """An optional comment (approving a step)."""

    comment = forms.CharField(widget=NOTE, required=False, help_text="Optional; shown to the people involved.")


class NoteForm(ControlCharacterFormMixin, forms.Form):
    """A required note (rejecting, attesting, withdrawing, deciding an exception)."""

    note = forms.CharField(widget=NOTE, help_text="Shown to the people involved and kept on the audit trail.")


class ExceptionRequestForm(ControlCharacterFormMixin, forms.Form):
    """Ask HR for an exception to some of the case's unmet requirements."""

    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text="Why the criteria should not apply here, in full sentences.",
    )
    waived = forms.TypedMultipleChoiceField(
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label="Requirements to waive",
        help_text="Only the requirements the case does not meet today.",
    )

    def __init__(self, *args: Any, requirements: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedMultipleChoiceField, self.fields["waived"]).choices = requirements
