"""Viewsets of the evidence API: every queryset is cut down to what the caller may see, every write is a service."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.common.pagination import PageOrCursorPagination
from apps.common.parsers import StrictFormParser, StrictMultiPartParser
from apps.common.users import signed_in_user

from ..filters import EvidenceFilter
from ..models import Attachment, Evidence, EvidenceQuerySet
from ..permissions import evidence_visible_to, review_queue_for, review_refusal
from ..services import (
    attachment_add,
    attachment_remove,
    evidence_correct,
    evidence_create,
    evidence_delete,
    evidence_reject,
    evidence_request_changes,
    evidence_submit,
    evidence_update,
    evidence_verify,
)
from .abilities import Abilities, is_owner
from .serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    ErrorSerializer,
    EvidenceSerializer,
    ReviewCommentSerializer,
    VerifySerializer,
)

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # what EvidenceReadMixin is mixed into: it uses the view's request and serializer
    from rest_framework.generics import GenericAPIView

    _ViewSetBase = GenericAPIView[Evidence]
else:
    _ViewSetBase = object

FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT, description='Invalid input: {"field": ["message", ...]} (non_field_errors for the rest).'
)
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="You may see the item but not do this to it.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such item, or you may not see it.")
CONFLICT = OpenApiResponse(ErrorSerializer, description="The item's status does not allow this now.")
ACTION_ERRORS = {400: FIELD_ERRORS, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


# Of each related row, only what EvidenceSerializer shows (the owner's name, codes, the reviewer's username): a
# page of 50 items otherwise reads and builds every column of five related models per item.
SHOWN_RELATED_FIELDS = (
    "owner__full_name", "category__code", "internal_customer_unit__code", "touchpoint__code", "reviewer__username",
)  # fmt: skip


def with_shown_relations(queryset: EvidenceQuerySet) -> EvidenceQuerySet:
    """What EvidenceSerializer shows of each item, read with it: a fixed number of queries however many items."""
    item_fields = [field.name for field in Evidence._meta.concrete_fields]
    return (
        queryset.select_related("owner", "category", "internal_customer_unit", "touchpoint", "reviewer")
        .only(*item_fields, *SHOWN_RELATED_FIELDS)
        .prefetch_related("attachments")
        # For the `can` flags (Abilities.for_item): one subquery instead of a query per item.
        .annotate(has_correction=Exists(Evidence.objects.filter(previous_id=OuterRef("pk"))))
    )


class EvidenceReadMixin(_ViewSetBase):
    """Shared by the evidence viewsets: visibility, what a page of items reads, the per-request `can` flags."""

    def get_queryset(self) -> EvidenceQuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Evidence.objects.none()
        visible = self.visible.all()
        # A write's service locks and reads the item again, and its answer is read afresh (item_response).
        return with_shown_relations(visible) if self.request.method in SAFE_METHODS else visible

    @cached_property
    def visible(self) -> EvidenceQuerySet:
        """What the caller may see, worked out once per request (get_object and the answer share it)."""
        return evidence_visible_to(self.request.user, Evidence.objects.all())

    @cached_property
    def abilities(self) -> Abilities:
        return Abilities(self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "abilities": self.abilities}

    def item_response(self, evidence: Evidence, status_code: int = status.HTTP_200_OK) -> Response:
        """Answer with the item as the caller now sees it, read again with its files and flags; only its id if they
        may no longer see it."""
        current = with_shown_relations(self.get_queryset()).filter(pk=evidence.pk).first()
        if current is None:
            return Response({"id": evidence.pk}, status=status_code)
        return Response(self.get_serializer(current).data, status=status_code)


@extend_schema_view(
    list=extend_schema(summary="List the evidence you may see", responses={200: EvidenceSerializer(many=True)}),
    retrieve=extend_schema(summary="One evidence item", responses={200: EvidenceSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Save a new draft (you become its owner)",
        responses={201: EvidenceSerializer, 400: FIELD_ERRORS, 403: FORBIDDEN},
    ),
    update=extend_schema(summary="Replace a draft's fields", responses={200: EvidenceSerializer, **ACTION_ERRORS}),
    partial_update=extend_schema(
        summary="Change some fields of a draft", responses={200: EvidenceSerializer, **ACTION_ERRORS}
    ),
    destroy=extend_schema(
        summary="Delete a draft that was never submitted",
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    ),
)
class EvidenceViewSet(EvidenceReadMixin, viewsets.ModelViewSet):
    """Evidence items: drafting, submission, review, correction and files."""

    serializer_class = EvidenceSerializer
    filterset_class = EvidenceFilter
    queryset = Evidence.objects.none()
    lookup_value_regex = "[0-9]+"
    pagination_class = PageOrCursorPagination
    cursor_ordering = ("-impact_date", "-id")  # the default order, along the (impact_date, id) index

    def _require_owner(self, evidence: Evidence, what: str) -> None:
        if not is_owner(self.request.user, evidence):
            raise PermissionDenied(f"Only the owner can {what} this item.")

    def _require_reviewer(self, evidence: Evidence) -> None:
        refusal = review_refusal(self.request.user, evidence)
        if refusal:
            raise PermissionDenied(refusal)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evidence = evidence_create(by=signed_in_user(request.user), data=serializer.validated_data)
        # The creator owns the new draft and sees all of it: answer with the saved instance, as a stock create does.
        return Response(self.get_serializer(evidence).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        evidence = self.get_object()
        self._require_owner(evidence, "edit")
        serializer = self.get_serializer(evidence, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        evidence = evidence_update(evidence=evidence, by=signed_in_user(request.user), data=serializer.validated_data)
        return self.item_response(evidence)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        evidence = self.get_object()
        self._require_owner(evidence, "delete")
        evidence_delete(evidence=evidence, by=signed_in_user(request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Send for review", request=None, responses={200: EvidenceSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        evidence = self.get_object()
        try:
            submitted = evidence_submit(evidence=evidence, by=signed_in_user(request.user))
        except Evidence.DoesNotExist:  # deleted since get_object read it
            raise Http404("No Evidence matches the given query.") from None
        # Only the owner submits, and the service read the item with the relations the answer shows.
        return Response(self.get_serializer(submitted).data)

    @extend_schema(
        summary="Verify (reviewers)", request=VerifySerializer, responses={200: EvidenceSerializer, **ACTION_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        evidence = self.get_object()
        self._require_reviewer(evidence)
        body = VerifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        evidence = evidence_verify(
            evidence=evidence,
            by=signed_in_user(request.user),
            comment=body.validated_data["comment"],
            acknowledge_flags=body.validated_data["acknowledge_flags"],
        )
        return self.item_response(evidence)

    @extend_schema(
        summary="Send back to the owner with what to change (reviewers)",
        request=ReviewCommentSerializer,
        responses={200: EvidenceSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="request-changes", url_name="request-changes")
    def request_changes(self, request: Request, pk: str | None = None) -> Response:
        evidence = self.get_object()
        self._require_reviewer(evidence)
        body = ReviewCommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        evidence = evidence_request_changes(
            evidence=evidence, by=signed_in_user(request.user), comment=body.validated_data["comment"]
        )
        return self.item_response(evidence)

    @extend_schema(
        summary="Reject for good, saying why (reviewers)",
        request=ReviewCommentSerializer,
        responses={200: EvidenceSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        evidence = self.get_object()
        self._require_reviewer(evidence)
        body = ReviewCommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        evidence = evidence_reject(
            evidence=evidence, by=signed_in_user(request.user), comment=body.validated_data["comment"]
        )
        return self.item_response(evidence)

    @extend_schema(
        summary="Start a correction of a verified item: a new draft version",
        request=None,
        responses={201: EvidenceSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str | None = None) -> Response:
        evidence = self.get_object()
        self._require_owner(evidence, "correct")
        return self.item_response(
            evidence_correct(evidence=evidence, by=signed_in_user(request.user)), status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Attach a file (multipart field `file`)",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, **ACTION_ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="attachments",
        url_name="attachments",
        parser_classes=[StrictMultiPartParser, StrictFormParser],
    )
    def add_attachment(self, request: Request, pk: str | None = None) -> Response:
        evidence = self.get_object()
        self._require_owner(evidence, "add files to")
        body = AttachmentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        attachment = attachment_add(
            evidence=evidence, by=signed_in_user(request.user), file=upload, name=upload.name, size=upload.size
        )
        data = AttachmentSerializer(attachment, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Remove a file from a draft",
        parameters=[OpenApiParameter("attachment_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=None,
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)",
        url_name="attachment-detail",
    )
    def remove_attachment(self, request: Request, pk: str | None = None, attachment_id: str | None = None) -> Response:
        evidence = self.get_object()
        attachment = get_object_or_404(Attachment.objects.filter(evidence_id=evidence.pk), pk=attachment_id)
        self._require_owner(evidence, "remove files from")
        attachment_remove(attachment=attachment, by=signed_in_user(request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="Submitted items you may review, oldest first", responses={200: EvidenceSerializer(many=True)}
    )
)
class ReviewQueueViewSet(EvidenceReadMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's review queue: submitted items of their reports (any depth), or anyone's for CX reviewers/HR."""

    serializer_class = EvidenceSerializer
    queryset = Evidence.objects.none()
    pagination_class = PageOrCursorPagination
    cursor_ordering = ("submitted_at", "id")  # the queue's order, oldest first, along the (status, submitted_at) index

    def get_queryset(self) -> EvidenceQuerySet:
        visible = super().get_queryset()
        return review_queue_for(self.request.user, visible).order_by("submitted_at", "id")


class IgnoreAcceptNegotiation(BaseContentNegotiation):
    """A file download answers with the file's own type whatever the client accepts; errors answer in JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        listed = list(parsers)
        return listed[0] if listed else None

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = list(renderers)[0]
        return renderer, renderer.media_type


class AttachmentViewSet(viewsets.GenericViewSet):
    """Attachment downloads, only for people who may see the item (anyone else gets 404)."""

    serializer_class = AttachmentSerializer
    queryset = Attachment.objects.none()
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Attachment.objects.none()
        visible = evidence_visible_to(self.request.user, Evidence.objects.all())
        return Attachment.objects.filter(evidence__in=visible)

    @extend_schema(
        summary="Download a file",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, with its stored content type, as an attachment."
            ),
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreAcceptNegotiation)
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        attachment = self.get_object()
        try:
            handle = attachment.file.storage.open(attachment.file.name, "rb")
        except FileNotFoundError:
            logger.error("attachment %s: stored file %s is missing", attachment.pk, attachment.file.name)
            raise NotFound("The stored file is missing; tell HR.") from None
        response = FileResponse(
            handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        # Even if a browser were tricked into rendering it, the file can run nothing and load nothing.
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response
