"""Serializers of the evidence API: shape and field validation only; the services decide everything else."""

from __future__ import annotations

from typing import Any

from django.db.models import Manager
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.org.models import Employee, OrgUnit, Touchpoint
from apps.policies.models import EvidenceCategory

from ..models import Attachment, Evidence
from ..services import EDITABLE_FIELDS
from .abilities import Abilities

# Set by the workflow, shown to everyone who may see the item, never written through the API.
WORKFLOW_FIELDS = (
    "status", "submitted_at", "reviewer", "review_comment", "reviewed_at", "gaming_flags", "flags_acknowledged",
    "version", "previous", "is_current", "responds_to", "attachments", "can", "created_at", "updated_at",
)  # fmt: skip


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

    category = serializers.SlugRelatedField(
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
    reviewer: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    previous: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The version this one corrects."
    )
    responds_to: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The inbox row (a customer insight in one unit's inbox, /api/insights/routes/<id>/) this item "
        "responds to; set when the item is started from the inbox.",
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
            # The serializer's own context dict; the stubs type it as a read-only Mapping.
            self.context["abilities"] = abilities  # type: ignore[index]
        return abilities.for_item(evidence)


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
