"""The requirement editor: one real form field per parameter, so HR never types JSON or category codes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from django import forms

from apps.common.text import ControlCharacterFormMixin
from apps.org.models import Touchpoint

from .engine.requirement_kinds import (
    ATTESTATION_ROLES,
    KIND_LABELS,
    ROLE_LABELS,
    ParamsError,
    RequirementKind,
    kinds_using,
    param_names,
    validate_params,
)
from .models import EvidenceCategory, Requirement, RequirementTemplate

Choices = list[tuple[str, str]]

# Every parameter any kind takes; each is a form field of the same name.
PARAM_FIELDS: tuple[str, ...] = (
    "count",
    "categories",
    "customer_type",
    "touchpoints",
    "within_days",
    "min_improvement_pct",
    "role",
    "max",
)
LIST_PARAMS = frozenset({"categories", "touchpoints"})
# Which fields each kind uses, for the script that hides the others.
KIND_PARAMS: dict[str, list[str]] = {kind.value: list(param_names(kind)) for kind in RequirementKind}


def _used_by(param: str) -> str:
    """Help text suffix naming the kinds that use a parameter (the page without JavaScript shows every field)."""
    return "Used by: " + ", ".join(KIND_LABELS[kind] for kind in kinds_using(param)) + "."


def active_category_choices() -> Choices:
    """(code, name) of the active evidence categories (one query)."""
    return list(EvidenceCategory.objects.active().order_by("name").values_list("code", "name"))


def active_touchpoint_choices() -> Choices:
    """(code, name) of the active touchpoints (one query)."""
    return [
        (code, f"{name} ({stage})")
        for code, name, stage in Touchpoint.objects.filter(active=True)
        .order_by("stage__order", "name")
        .values_list("code", "name", "stage__name")
    ]


def _with_stored(choices: Choices, stored: object) -> Choices:
    """Keep codes the stored params use but that are no longer offered, so saving does not drop them silently."""
    known = {code for code, _ in choices}
    extra = [code for code in stored if isinstance(code, str) and code not in known] if isinstance(stored, list) else []
    return [*choices, *((code, f"{code} (inactive)") for code in extra)]


# The model's help text lists every kind with JSON examples (for the API and the shell); the editor has fields
# for each parameter and the "About requirement kinds" panel, so a row says only what the choice does.
KIND_FIELD_HELP = 'What the requirement checks; the fields below change with it (see "About requirement kinds").'


class RequirementParamsForm(ControlCharacterFormMixin, forms.ModelForm):
    """Edits a requirement kind and its params field by field; `clean()` builds and validates the params.

    Fields that do not belong to the chosen kind are ignored. The model's JSON `params` is not shown.
    """

    count = forms.IntegerField(
        required=False,
        label="How many",
        help_text="The number of verified items (or categories) needed. " + _used_by("count"),
    )
    categories = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Evidence categories",
        help_text="Leave all unticked to accept any category. " + _used_by("categories"),
    )
    customer_type = forms.ChoiceField(
        required=False,
        initial="any",
        choices=[("any", "Any customer"), ("external", "External customers"), ("internal", "Internal customers")],
        label="Customer",
        help_text="Whose experience the evidence is about. " + _used_by("customer_type"),
    )
    touchpoints = forms.MultipleChoiceField(
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        label="Touchpoints",
        help_text="Leave empty to accept any touchpoint. " + _used_by("touchpoints"),
    )
    within_days = forms.IntegerField(
        required=False,
        label="Within (days)",
        help_text="Only evidence with an impact date in the last N days counts; blank = no time limit. "
        + _used_by("within_days"),
    )
    min_improvement_pct = forms.DecimalField(
        required=False,
        label="Minimum improvement (%)",
        help_text="How much the metric must improve, in percent of its baseline; blank or 0 = any improvement. "
        + _used_by("min_improvement_pct"),
    )
    role = forms.ChoiceField(
        required=False,
        choices=[("", "---------"), *((role, ROLE_LABELS[role].capitalize()) for role in ATTESTATION_ROLES)],
        label="Role to attest",
        help_text="Who must attest on the case. " + _used_by("role"),
    )
    max = forms.IntegerField(
        required=False,
        label="Cap (at most N survey-score items)",
        help_text="0 = survey scores never count. " + _used_by("max"),
    )

    def __init__(
        self,
        *args: Any,
        category_choices: Sequence[tuple[str, str]] | None = None,
        touchpoint_choices: Sequence[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        params = self.instance.params if isinstance(self.instance.params, dict) else {}
        self.category_codes = self._offer(
            "categories",
            list(category_choices) if category_choices is not None else active_category_choices(),
            params.get("categories"),
        )
        self.touchpoint_codes = self._offer(
            "touchpoints",
            list(touchpoint_choices) if touchpoint_choices is not None else active_touchpoint_choices(),
            params.get("touchpoints"),
        )
        if "kind" in self.fields:
            self.fields["kind"].widget.attrs.update(
                {"class": "requirement-kind", "data-kind-params": json.dumps(KIND_PARAMS)}
            )
        if self.instance.kind in KIND_PARAMS:
            for name in KIND_PARAMS[self.instance.kind]:
                if name in params:
                    self.initial[name] = params[name]
        # The model's clean() checks params again and reports under "params"; this field, never rendered, receives
        # those messages, which repeat the ones clean() below already put next to each parameter's own field.
        self.fields["params"] = forms.JSONField(required=False, disabled=True, widget=forms.HiddenInput)

    def _offer(self, name: str, choices: Choices, stored: object) -> frozenset[str]:
        """Set a code list field's choices; return the codes it offers."""
        offered = _with_stored(choices, stored)
        cast(forms.MultipleChoiceField, self.fields[name]).choices = offered
        return frozenset(code for code, _ in offered)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        if kind not in KIND_PARAMS:
            return cleaned
        names = KIND_PARAMS[kind]
        if any(name in self.errors for name in names):
            return cleaned  # a field's own error (not a number, ...) is already shown next to it
        raw: dict[str, Any] = {}
        for name in names:
            value = cleaned.get(name)
            if name in LIST_PARAMS:
                raw[name] = list(value or [])
            elif name == "within_days":
                raw[name] = value  # blank means no window
            elif value not in (None, ""):
                raw[name] = value  # absent: the kind's default, or "required" next to the field
        try:
            params = validate_params(
                kind,
                raw,
                category_codes=self.category_codes,
                touchpoint_codes=self.touchpoint_codes,
            )
        except ParamsError as exc:
            for name, messages in exc.errors.items():
                target = name if name in PARAM_FIELDS or name == "kind" else None
                for message in messages:
                    self.add_error(target, message)
            return cleaned
        cleaned["params"] = params
        self.instance.params = params
        return cleaned


class RequirementForm(RequirementParamsForm):
    """One requirement of a draft policy version."""

    class Meta:
        model = Requirement
        fields = ("order", "kind", "label", "weight", "help_text")
        widgets = {"help_text": forms.Textarea(attrs={"rows": 2, "cols": 60})}
        help_texts = {"kind": KIND_FIELD_HELP}


class RequirementTemplateForm(RequirementParamsForm):
    """A ready-made requirement in HR's library."""

    class Meta:
        model = RequirementTemplate
        fields = ("name", "description", "suggested_ritual", "active", "kind", "label", "help_text")
        help_texts = {"kind": KIND_FIELD_HELP}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2, "cols": 60}),
            "help_text": forms.Textarea(attrs={"rows": 2, "cols": 60}),
        }


class RequirementFormSet(forms.BaseInlineFormSet):
    """Loads the category and touchpoint choices once for all rows instead of once per row."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editor_choices = {
            "category_choices": active_category_choices(),
            "touchpoint_choices": active_touchpoint_choices(),
        }

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), **self.editor_choices}
