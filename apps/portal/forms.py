"""Forms of the employee and reviewer pages; the rules themselves live in apps.evidence.services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q
from django.utils import timezone

from apps.common.text import ControlCharacterFormMixin
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.evidence.services import EDITABLE_FIELDS
from apps.org.models import OrgUnit, Touchpoint
from apps.policies.models import EvidenceCategory

from .constants import ReviewDecision


class PortalForm(ControlCharacterFormMixin, forms.Form):
    """Base of the portal's forms: a value with control characters is refused next to its field."""


class PortalModelForm(ControlCharacterFormMixin, forms.ModelForm):
    """Base of the portal's model forms: a value (or file name) with control characters is refused next to its field."""


class MultipleFileInput(forms.FileInput):
    """A file input that lets the user pick several files at once."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A list of uploaded files; every check of their content is left to attachment_add."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        # Empty files are refused by the upload checks, with their message, not by the form.
        super().__init__(allow_empty_file=True, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


FIELDSETS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("About", "What this is, when it happened and whose experience changed.", (
        "title", "category", "impact_date", "customer_type", "internal_customer_unit", "touchpoint",
    )),
    ("Listen", "What the customer said, and where you heard it.", (
        "customer_quote", "source_type", "source_reference",
    )),
    ("Interpret", "Why it mattered: the need or the pain behind the words.", ("interpretation",)),
    ("Respond", "The change you made, for this customer and for the next ones.", ("response",)),
    ("Monitor", "The metric you moved: its value before and after. Operational metrics count more than survey "
     "scores.", (
        "metric_name", "metric_kind", "baseline", "result", "metric_unit", "direction", "metric_period",
    )),
)  # fmt: skip


class EvidenceForm(PortalModelForm):
    """The owner's form over the fields they fill in, grouped Listen / Interpret / Respond / Monitor."""

    # The form's metaclass takes declared fields off the class: Form.files (the request's uploads) stays as it is.
    files = MultipleFileField(  # type: ignore[assignment]
        required=False,
        label="Attach files",
        help_text="PDF, PNG, JPEG, plain text, CSV, DOCX or XLSX; you can choose several.",
    )

    class Meta:
        model = Evidence
        fields = EDITABLE_FIELDS
        widgets = {
            "impact_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "customer_quote": forms.Textarea(attrs={"rows": 4}),
            "interpretation": forms.Textarea(attrs={"rows": 4}),
            "response": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {
            "customer_quote": "Customer's words",
            "source_type": "Where you heard it",
            "source_reference": "Source reference",
            "interpretation": "What it meant",
            "response": "What you did",
            "customer_type": "Customer",
            "internal_customer_unit": "Receiving group (internal customer)",
            "direction": "Good direction",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Active categories only, but an item keeps the category it already has.
        current = self.instance.category_id if self.instance.pk else None
        # The three are the model form's ModelChoiceFields (foreign keys).
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = EvidenceCategory.objects.filter(
            Q(active=True) | Q(pk=current)
        )
        cast(forms.ModelChoiceField, self.fields["internal_customer_unit"]).queryset = OrgUnit.objects.active()
        cast(forms.ModelChoiceField, self.fields["touchpoint"]).queryset = Touchpoint.objects.filter(active=True)
        self.fields["impact_date"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["customer_type"].widget.attrs["data-customer-type"] = ""
        self.fields["internal_customer_unit"].widget.attrs["data-internal-unit"] = ""

    def fieldsets(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """The bound fields grouped for the template."""
        return [(legend, hint, [self[name] for name in names]) for legend, hint, names in FIELDSETS]

    def service_data(self) -> dict[str, Any]:
        """The cleaned values the evidence services accept."""
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}


class MyEvidenceFilterForm(PortalForm):
    """Filters of "My evidence"; invalid values are ignored."""

    status = forms.ChoiceField(choices=[("", "All statuses"), *EvidenceStatus.choices], required=False)
    category = forms.ModelChoiceField(
        queryset=EvidenceCategory.objects.all(), required=False, empty_label="All categories"
    )


class ReviewFilterForm(PortalForm):
    """Filters of the review queue."""

    category = forms.ModelChoiceField(
        queryset=EvidenceCategory.objects.all(), required=False, empty_label="All categories"
    )
    flagged = forms.BooleanField(required=False, label="Flagged only")


class ReviewForm(PortalForm):
    """A reviewer's decision; the comment and flag rules are the service's, shown next to these fields."""

    decision = forms.ChoiceField(choices=ReviewDecision.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required when you request changes or reject: the owner reads it.",
    )
    acknowledge_flags = forms.BooleanField(
        required=False,
        label="I have read the flags above and the evidence stands on what was done for the customer.",
    )

    def __init__(self, *args: Any, flagged: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not flagged:
            del self.fields["acknowledge_flags"]


def add_service_errors(form: forms.BaseForm, exc: ValidationError, *, rename: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form: field errors next to their fields, the rest on top."""
    rename = rename or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, messages in exc.message_dict.items():
        field = rename.get(name, name)
        if field in form.fields:
            form.add_error(field, messages)
        else:
            form.add_error(None, messages)


class ExceptionRequestForm(PortalForm):
    """Ask HR for an exception: the written justification and the unmet requirements it waives."""

    justification = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="In full sentences: why should the criteria not apply to this case? A second HR person reads it.",
    )
    waived_requirements = forms.TypedMultipleChoiceField(
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label="Requirements to waive",
        help_text="The requirements this case does not meet; untick any the exception should not cover.",
    )
    confirm = forms.BooleanField(
        label="I ask for this exception in my name; HR sees who asked and why.",
        error_messages={"required": "Tick the box to confirm the request."},
    )

    def __init__(self, *args: Any, unmet: list[tuple[int, str]], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"waived_requirements": [pk for pk, _ in unmet]})
        super().__init__(*args, **kwargs)
        cast(forms.TypedMultipleChoiceField, self.fields["waived_requirements"]).choices = unmet


class AttestForm(PortalForm):
    """Vouch for a case in a role the policy names (manager, HR, ...)."""

    role = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(
        required=False,
        max_length=5000,
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you vouch for; the subject and HR read it.",
    )


class AttestationWithdrawForm(PortalForm):
    """Take an attestation back, saying why."""

    note = forms.CharField(
        max_length=5000,
        label="Why you withdraw it",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The requirement counts as not met again; the note stays on the case's timeline.",
    )
