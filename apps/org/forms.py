"""Forms of the org admin."""

from django import forms
from django.core.exceptions import ValidationError

from .importers import size_problem


class OrgImportForm(forms.Form):
    """Upload of an org CSV on the admin import page; a dry run only reports what would change."""

    file = forms.FileField(label="CSV file", widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}))
    dry_run = forms.BooleanField(
        required=False,
        initial=True,
        label="Dry run",
        help_text="Check the file and show what would change, without writing anything.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if problem := size_problem(upload.size):
            raise ValidationError(problem)
        return upload
