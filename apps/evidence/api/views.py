"""Viewsets of the evidence API: every queryset is cut down to what the caller may see, every write is a service."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.common.limits import MAX_DATABASE_ID
from apps.common.pagination import DefaultPagination
from apps.common.prepared import Prepared

from ..filters import EvidenceFilter
from ..models import Attachment, Evidence, EvidenceQuerySet
from ..permissions import can_view, evidence_visible_to, review_queue_for, review_refusal
from ..services import (
    NotOwner,
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
from . import page_cache
from .abilities import Abilities, is_owner
from .rows import evidence_row, evidence_rows, evidence_rows_queryset, instance_row
from .serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    ErrorSerializer,
    EvidenceInputSerializer,
    EvidenceSerializer,
    ReviewCommentSerializer,
    VerifySerializer,
)

logger = logging.getLogger(__name__)

FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT, description='Invalid input: {"field": ["message", ...]} (non_field_errors for the rest).'
)
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="You may see the item but not do this to it.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such item, or you may not see it.")
CONFLICT = OpenApiResponse(ErrorSerializer, description="The item's status does not allow this now.")
ACTION_ERRORS = {400: FIELD_ERRORS, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
# An item by id, whoever may see it (get_object checks): compiled once.
_ITEM_BY_ID = Prepared(Evidence, lambda pk: Evidence.objects.filter(pk=pk), -7_391_008)
# Query parameters that are not filters.
PAGING_PARAMETERS = frozenset({DefaultPagination.page_query_param, DefaultPagination.page_size_query_param})


class EvidenceReadMixin:
    """Shared by the evidence viewsets: visibility, the per-request `can` flags, answering with rows.

    Items go out through `rows.evidence_rows` (the JSON of EvidenceSerializer, from one values() query a page);
    `get_queryset` gives plain items for the writes, which lock and reload them in their service anyway.
    """

    request: Request

    def get_queryset(self) -> EvidenceQuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Evidence.objects.none()
        return evidence_visible_to(self.request.user, Evidence.objects.all())

    @cached_property
    def abilities(self) -> Abilities:
        return Abilities(self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        context["abilities"] = self.abilities
        return context

    def render_rows(self, rows: Any, *, without_files: bool = False) -> list[dict[str, Any]]:
        return evidence_rows(rows, abilities=self.abilities, request=self.request, without_files=without_files)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A page already built for this user, URL and data version is answered from memory (page_cache says why
        # it cannot be stale); the version is read before anything else, and only successful pages are kept.
        version = page_cache.data_version()
        key = page_cache.page_key(request, version) if version is not None else None
        if key is not None and (kept := page_cache.pages.get(key)) is not None:
            return page_cache.kept_response(request, kept)
        rows = evidence_rows_queryset(self.filter_queryset(self.get_queryset()))  # type: ignore[attr-defined]
        page = self.paginate_queryset(rows)  # type: ignore[attr-defined]
        if page is None:
            response = Response(self.render_rows(rows))
        else:
            response = self.get_paginated_response(self.render_rows(page))  # type: ignore[attr-defined]
        if key is None:
            return response
        return page_cache.kept_response(request, page_cache.pages.put(key, response.data))

    def item_response(
        self, evidence: Evidence, status_code: int = status.HTTP_200_OK, *, created: bool = False, saved: bool = False
    ) -> Response:
        """Answer with the item as the caller now sees it (reloaded with its attachments and flags), if they still
        may see it (the rule of `get_queryset`, for one item). An item `created` or `saved` by this request with
        what its answer shows already read is answered from the instance (`rows.instance_row`); a created one has
        no files yet."""
        from_instance = created or saved
        row = instance_row(evidence) if from_instance else evidence_row(evidence.pk)
        if row is None:
            return Response({"id": evidence.pk}, status=status_code)
        # The visibility rule reads the owner and the status: the instance's own when the row is made from it.
        subject = evidence if from_instance else Evidence(owner_id=row["owner_id"], status=row["status"])
        if not can_view(self.request.user, subject):
            return Response({"id": evidence.pk}, status=status_code)
        # No files to ask for: a new item, or a saved one whose read found none (the submission's `has_files`).
        without_files = created or (saved and evidence.__dict__.get("has_files") is False)
        return Response(self.render_rows([row], without_files=without_files)[0], status=status_code)


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

    def get_object(self) -> Evidence:
        """The item of the URL if the caller may see it, else 404 (the rule of `get_queryset`, for one item).

        Without filters in the query string the item is read by a prepared query and checked with
        `permissions.can_view`, which agrees with the list rule (tests/evidence/test_permissions.py); building the
        visibility queryset costs more than the rest of a submission's reads.
        """
        if self._filtered():
            return super().get_object()
        evidence = _ITEM_BY_ID.query().first(self._url_pk())
        if evidence is None:
            raise self._not_found()
        self._check_visible(evidence)
        return evidence

    def _filtered(self) -> bool:
        # Filters in the query string narrow what the URL's item may be (the list's rules, the queryset's way).
        return bool(self.request.query_params.keys() - PAGING_PARAMETERS) or getattr(self, "swagger_fake_view", False)

    def _url_pk(self) -> int:
        """The URL's item id (the pattern allows digits only); 404 past the largest id the database can hold."""
        pk = int(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        if pk > MAX_DATABASE_ID:
            raise self._not_found()
        return pk

    def _not_found(self) -> Http404:
        return Http404(f"No {Evidence._meta.object_name} matches the given query.")

    def _check_visible(self, evidence: Evidence) -> None:
        if not can_view(self.request.user, evidence):
            raise self._not_found()
        self.check_object_permissions(self.request, evidence)

    def filter_queryset(self, queryset: EvidenceQuerySet) -> EvidenceQuerySet:
        # Without a filter in the query string the filterset changes nothing, but building and validating its form
        # costs about a tenth of a list request; unknown values in a query string that has them are still refused.
        if not self.request.query_params.keys() - PAGING_PARAMETERS:
            return queryset
        return super().filter_queryset(queryset)

    def _require_owner(self, evidence: Evidence, what: str) -> None:
        if not is_owner(self.request.user, evidence):
            raise PermissionDenied(f"Only the owner can {what} this item.")

    def _require_reviewer(self, evidence: Evidence) -> None:
        refusal = review_refusal(self.request.user, evidence)
        if refusal:
            raise PermissionDenied(refusal)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.item_response(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = EvidenceInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        evidence = evidence_create(by=request.user, data=serializer.validated_data)
        return self.item_response(evidence, status.HTTP_201_CREATED, created=True)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        evidence = self.get_object()
        self._require_owner(evidence, "edit")
        serializer = EvidenceInputSerializer(
            evidence, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        evidence = evidence_update(evidence=evidence, by=request.user, data=serializer.validated_data)
        return self.item_response(evidence)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        evidence = self.get_object()
        self._require_owner(evidence, "delete")
        evidence_delete(evidence=evidence, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Send for review", request=None, responses={200: EvidenceSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        # The submission's own locking read is the only read of the item: only its owner may submit it, and the
        # owner may always see it; anyone else learns from that read whether to hear 403 or 404 (the service
        # refuses non-owners). Filters in the query string are applied first, as for any other item URL.
        # Else only the id is passed on: built as a row with that one column (Model.__init__ with keywords would
        # make up a default for each of thirty fields, raising and catching an error for most).
        evidence = self.get_object() if self._filtered() else Evidence.from_db(None, ["id"], [self._url_pk()])
        try:
            submitted = evidence_submit(evidence=evidence, by=request.user)
        except Evidence.DoesNotExist:
            raise self._not_found() from None
        except NotOwner as refused:
            self._check_visible(refused.evidence)
            raise
        return self.item_response(submitted, saved=True)

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
            by=request.user,
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
        evidence = evidence_request_changes(evidence=evidence, by=request.user, comment=body.validated_data["comment"])
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
        evidence = evidence_reject(evidence=evidence, by=request.user, comment=body.validated_data["comment"])
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
        return self.item_response(evidence_correct(evidence=evidence, by=request.user), status.HTTP_201_CREATED)

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
        parser_classes=[MultiPartParser, FormParser],
    )
    def add_attachment(self, request: Request, pk: str | None = None) -> Response:
        evidence = self.get_object()
        self._require_owner(evidence, "add files to")
        body = AttachmentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        attachment = attachment_add(evidence=evidence, by=request.user, file=upload, name=upload.name, size=upload.size)
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
        attachment_remove(attachment=attachment, by=request.user)
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

    def get_queryset(self) -> EvidenceQuerySet:
        visible = super().get_queryset()
        return review_queue_for(self.request.user, visible).order_by("submitted_at", "id")


class IgnoreAcceptNegotiation(BaseContentNegotiation):
    """A file download answers with the file's own type whatever the client accepts; errors answer in JSON."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list[Any], format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


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
