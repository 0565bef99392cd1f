"""Admin forms for cases."""

from django import forms


class NominationsForm(forms.Form):
    file = forms.FileField(help_text="CSV, UTF-8, at most 5 MB; see the columns below.")


class DecisionNoteForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Shown to the people involved.")
