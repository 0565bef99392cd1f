"""Forms of the insights admin: a routing rule that must match something, and the CSV upload."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from .csv_import import size_problem
from .models import RoutingRule

NO_TARGET = "Choose a touchpoint or a journey stage (or both) for the rule to match."


class RoutingRuleForm(forms.ModelForm):
    """A routing rule; the missing target is reported next to the two fields (the check constraint then skips them,
    as Django skips constraints on fields that already have errors)."""

    class Meta:
        model = RoutingRule
        fields = ["name", "unit", "touchpoint", "journey_stage", "active"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("touchpoint") and not cleaned.get("journey_stage") and "touchpoint" not in self.errors:
            self.add_error("touchpoint", NO_TARGET)
            self.add_error("journey_stage", NO_TARGET)
        return cleaned


class InsightImportForm(forms.Form):
    """Upload of an insights CSV; a dry run (the default) only reports what would be created."""

    file = forms.FileField(label="CSV file", widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}))
    source_system = forms.CharField(
        max_length=40,
        initial="csv",
        help_text="The system the rows come from (e.g. qualtrics). With each row's source id it makes a re-imported "
        "row the same insight.",
    )
    dry_run = forms.BooleanField(
        required=False,
        initial=True,
        label="Dry run",
        help_text="Check the file and show what would be created, without writing anything. Untick to import.",
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if problem := size_problem(upload.size or 0):
            raise ValidationError(problem)
        return upload
