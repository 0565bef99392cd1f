"""HR admin for evidence: read and search everything; changes go through the portal and API workflow."""

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.html import format_html_join

from apps.common.pagination import EstimatedCountAdminMixin
from apps.org.admin_filters import CustomerLayerFilter
from apps.org.models import Employee

from .gaming import CompiledPhrase, find_solicitations, phrase_regex
from .gaming_builtin import SAMPLE_TEXTS
from .models import Attachment, Evidence, SolicitationPhrase


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ("original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class OwnerLayerFilter(CustomerLayerFilter):
    """The owner's customer layer (fixed choices: no DISTINCT over the evidence table)."""

    title = "owner's customer layer"
    layer_lookup = "owner__org_unit__customer_layer"


# Above this many owners matching a search, their ids are matched through a subquery instead of a list.
OWNER_MATCH_LIMIT = 1000


@admin.register(Evidence)
class EvidenceAdmin(EstimatedCountAdminMixin, admin.ModelAdmin):
    """Evidence is changed only through its workflow (submit, review, correct), so the admin is read-only.

    Built for a table of hundreds of thousands of items: no whole-table count (EstimatedCountAdminMixin), filters
    with fixed choices, no date hierarchy (it reads the distinct years and months of every item), and a search that
    the trigram indexes of the searched columns serve on PostgreSQL (migration 0003).
    """

    list_display = ("title", "owner", "category", "status", "customer_type", "impact_date", "flagged", "version")
    list_filter = ("status", "category", "customer_type", OwnerLayerFilter, "is_current", "impact_date")
    # Plus the owner's name or employee number (get_search_results).
    search_fields = ("title", "customer_quote", "source_reference")
    list_select_related = ("owner", "category")
    show_full_result_count = False
    inlines = [AttachmentInline]
    readonly_fields = [field.name for field in Evidence._meta.fields]

    def get_search_results(self, request: Any, queryset: Any, search_term: str) -> tuple[Any, bool]:
        """The search of the item's own texts, or the items of the owners whose name or employee number matches.

        The owners are looked up first, so that each condition on the evidence table is one an index serves (an OR
        with a condition on the joined employee table would make PostgreSQL read every item).
        """
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return found, duplicates
        owners = Employee.objects.filter(Q(full_name__icontains=term) | Q(employee_number__icontains=term))
        owner_ids = list(owners.values_list("pk", flat=True)[: OWNER_MATCH_LIMIT + 1])
        if len(owner_ids) > OWNER_MATCH_LIMIT:
            return found | queryset.filter(owner_id__in=owners.values("pk")), duplicates
        if not owner_ids:
            return found, duplicates
        return found | queryset.filter(owner_id__in=owner_ids), duplicates

    @admin.display(boolean=True, description="flagged")
    def flagged(self, obj: Evidence) -> bool:
        return bool(obj.gaming_flags)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SolicitationPhraseForm(forms.ModelForm):
    """The phrase, and a text to try it on after saving."""

    try_text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Test this phrase",
        help_text="Paste a sentence from a real case; after saving you are told whether the phrase catches it.",
    )

    class Meta:
        model = SolicitationPhrase
        fields = ("phrase", "is_pattern", "kind", "language", "description", "active")


def _compiled(obj: SolicitationPhrase) -> CompiledPhrase | None:
    try:
        return CompiledPhrase(phrase_regex(obj.phrase, is_pattern=obj.is_pattern), obj.kind, obj.language, obj.pk)
    except re.error:
        return None


@admin.register(SolicitationPhrase)
class SolicitationPhraseAdmin(admin.ModelAdmin):
    """HR keeps the list of score-solicitation phrasings; built-in ones can be switched off but not edited."""

    form = SolicitationPhraseForm
    list_display = ("__str__", "kind", "language", "active", "built_in", "updated_at")
    list_filter = ("kind", "language", "active", "built_in")
    search_fields = ("phrase", "description")
    list_editable = ("active",)
    readonly_fields = ("built_in", "sample_matches", "created_at", "updated_at")

    def get_readonly_fields(self, request: Any, obj: SolicitationPhrase | None = None) -> tuple[str, ...]:
        if obj is not None and obj.built_in:
            return ("phrase", "is_pattern", "kind", "language", *self.readonly_fields)
        return tuple(self.readonly_fields)

    def has_delete_permission(self, request: Any, obj: SolicitationPhrase | None = None) -> bool:
        if obj is not None and obj.built_in:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="Matches among sample texts")
    def sample_matches(self, obj: SolicitationPhrase) -> str:
        """Which sample sentences (some that should match, some that should not) the phrase catches."""
        compiled = _compiled(obj) if obj.pk else None
        if compiled is None:
            return "Save the phrase to see which sample sentences it catches."
        rows = [
            (text, "catches" if find_solicitations([("", text)], phrases=[compiled]) else "—") for text in SAMPLE_TEXTS
        ]
        return format_html_join("", "<div>{}: {}</div>", ((verdict, text) for text, verdict in rows))

    def save_model(self, request: Any, obj: SolicitationPhrase, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        text = form.cleaned_data.get("try_text")
        compiled = _compiled(obj)
        if text and compiled is not None:
            hits = find_solicitations([("", text)], phrases=[compiled])
            if hits:
                messages.info(request, f"The phrase catches your test text: \u201c{hits[0].matched}\u201d.")
            else:
                messages.warning(request, "The phrase does not catch your test text.")
