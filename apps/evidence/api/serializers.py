"""Serializers of the evidence API: shape and field validation only; the services decide everything else."""

from __future__ import annotations

import copy
from typing import Any

from django.db.models import Manager
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.common.prepared import Prepared
from apps.org.models import Employee, OrgUnit, Touchpoint
from apps.policies.models import EvidenceCategory

from ..models import Attachment, Evidence
from ..services import EDITABLE_FIELDS
from .abilities import Abilities

# Set by the workflow, shown to everyone who may see the item, never written through the API.
WORKFLOW_FIELDS = (
    "status", "submitted_at", "reviewer", "review_comment", "reviewed_at", "gaming_flags", "flags_acknowledged",
    "version", "previous", "is_current", "attachments", "can", "created_at", "updated_at",
)  # fmt: skip


class CategoryCodeField(serializers.SlugRelatedField):
    """An active category by its code, looked up on every draft: the lookup is compiled once and prepared on the
    database. Anything but a plain string takes DRF's own path, with its errors."""

    lookup = Prepared(EvidenceCategory, lambda code: EvidenceCategory.objects.active().filter(code=code), "\x00code")

    def to_internal_value(self, data: Any) -> Any:
        if type(data) is not str or "\x00" in data:
            return super().to_internal_value(data)
        found = self.lookup.query().first(data)
        if found is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return found


class OwnerSerializer(serializers.ModelSerializer):
    """The employee who owns an item."""

    name = serializers.CharField(source="full_name", read_only=True)

    class Meta:
        model = Employee
        fields = ["id", "name"]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    """A stored file's metadata; the bytes are fetched from `download_url`, which checks permission."""

    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "uploaded_at", "download_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, attachment: Attachment) -> str:
        url = reverse("evidence_api:attachment-download", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class AttachmentUploadSerializer(serializers.Serializer):
    """A multipart upload; size, type and name are checked by the service (empty files included)."""

    file = serializers.FileField(allow_empty_file=True, use_url=False)


class GamingFlagSerializer(serializers.Serializer):
    """A reason for the reviewer to look twice (score solicitation, outcome score only)."""

    code = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)


class AbilitiesSerializer(serializers.Serializer):
    """What the requesting user may do with the item now."""

    edit = serializers.BooleanField(read_only=True)
    submit = serializers.BooleanField(read_only=True)
    review = serializers.BooleanField(read_only=True, help_text="Verify, request changes or reject.")
    correct = serializers.BooleanField(read_only=True, help_text="Start a new version of a verified item.")
    delete = serializers.BooleanField(read_only=True, help_text="Delete a draft that was never submitted.")


class EvidenceListSerializer(serializers.ListSerializer):
    """Loads the user's review rights for the whole page at once before rendering the rows."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        items = list(data.all() if isinstance(data, Manager) else data)
        abilities = self.child.context.get("abilities") if self.child is not None else None
        if isinstance(abilities, Abilities):
            abilities.prime(items)
        return super().to_representation(items)


class EvidenceSerializer(serializers.ModelSerializer):
    """An evidence item: the owner's Listen-Interpret-Respond-Monitor fields plus its review state."""

    category = CategoryCodeField(
        slug_field="code",
        queryset=EvidenceCategory.objects.active(),
        help_text="Code of an active evidence category, e.g. customer_story.",
    )
    internal_customer_unit = serializers.SlugRelatedField(
        slug_field="code",
        queryset=OrgUnit.objects.all(),
        required=False,
        allow_null=True,
        help_text="Code of the org unit receiving your output; only with customer_type=internal.",
    )
    touchpoint = serializers.SlugRelatedField(
        slug_field="code", queryset=Touchpoint.objects.all(), required=False, allow_null=True
    )
    owner = OwnerSerializer(read_only=True)
    # allow_null: both are empty until a review / on a first version, and the schema must say so.
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    previous = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The version this one corrects."
    )
    gaming_flags = GamingFlagSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    can = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "owner", *EDITABLE_FIELDS, *WORKFLOW_FIELDS]
        read_only_fields = ["id", "owner", *WORKFLOW_FIELDS]
        list_serializer_class = EvidenceListSerializer

    @extend_schema_field(AbilitiesSerializer)
    def get_can(self, evidence: Evidence) -> dict[str, bool]:
        abilities = self.context.get("abilities")
        if not isinstance(abilities, Abilities):
            request = self.context.get("request")
            abilities = Abilities(getattr(request, "user", None))
            self.context["abilities"] = abilities
        return abilities.for_item(evidence)


class EvidenceInputSerializer(EvidenceSerializer):
    """What a create or an edit reads: the owner-editable fields of EvidenceSerializer, with its validation.

    Answers go out as rows (`rows.evidence_rows`), so input needs none of the read-only fields. The fields are
    built from the model once per process (`get_fields` cost a sixth of a create's CPU), then copied for each
    request.
    """

    _prototype_fields: dict[str, serializers.Field] | None = None

    class Meta(EvidenceSerializer.Meta):
        fields = list(EDITABLE_FIELDS)
        read_only_fields: list[str] = []

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        if cls._prototype_fields is None:
            cls._prototype_fields = super().get_fields()
        # Each field a shallow copy of its never-bound prototype: a new object that binding to this serializer
        # changes alone, sharing what nothing changes once built (choices, validators, the category queryset,
        # which is cloned for each lookup). DRF's own copy makes each field again from its arguments, deep-copied.
        return {name: copy.copy(field) for name, field in cls._prototype_fields.items()}


class VerifySerializer(serializers.Serializer):
    """A reviewer verifies; flagged items need `acknowledge_flags: true`."""

    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    acknowledge_flags = serializers.BooleanField(
        required=False, default=False, help_text="Required true when the item has gaming flags."
    )


class ReviewCommentSerializer(serializers.Serializer):
    """A reviewer sends an item back or rejects it, saying why (a sentence at least)."""

    comment = serializers.CharField(allow_blank=True, max_length=5000, help_text="At least a sentence.")


class ErrorSerializer(serializers.Serializer):
    """The body of a 401, 403, 404 or 409 answer."""

    detail = serializers.CharField()
