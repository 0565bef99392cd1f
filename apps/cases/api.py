"""REST API for cases: lists and details with the live checklist, the timeline, opening a case, and the decision
actions with the same rules as the pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from apps.common.errors import InvalidTransition
from apps.common.limits import MAX_DATABASE_ID
from apps.common.pagination import PageOrCursorPagination
from apps.common.roles import is_hr
from apps.common.users import signed_in_user
from apps.policies.engine import Evaluation

from .constants import CaseStatus
from .models import Attestation, Case, Cycle, PolicyException
from .permissions import cases_visible_to
from .selectors import live_evaluations
from .serializers import (
    AttestSerializer,
    CaseDetailSerializer,
    CaseOpenSerializer,
    CaseSerializer,
    CycleSerializer,
    DecisionSerializer,
    ExceptionDecisionSerializer,
    ExceptionRequestSerializer,
    ExceptionSerializer,
    NoteSerializer,
    TimelineEntrySerializer,
)
from .services import (
    case_attest,
    case_attestation_withdraw,
    case_exception_decide,
    case_exception_request,
    case_open,
    case_step_decide,
    case_withdraw,
)
from .timeline import case_timeline

ERRORS = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT, description="Invalid input, or the policy is not met (the message lists why)."
    ),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description="You may see the case but not do this."),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such case, or you may not see it."),
    409: OpenApiResponse(OpenApiTypes.OBJECT, description="The case is already decided."),
}
ATTESTATION_ERRORS = {
    **ERRORS,
    404: OpenApiResponse(
        OpenApiTypes.OBJECT, description="No such case, you may not see it, or the attestation is on another case."
    ),
    409: OpenApiResponse(OpenApiTypes.OBJECT, description="The attestation is already withdrawn, or the case decided."),
}
OPEN_ERRORS = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="Field errors: no such employee or unit, a subject of the wrong kind, a missing candidate e-mail, "
        "a live case already open for the subject, or a cycle that no longer opens cases. Nothing is written.",
    ),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description="Only HR opens cases."),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such cycle."),
}


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_DATABASE_ID})
class IdFilter(filters.NumberFilter):
    """A number filter on a foreign key's id; the schema names it an int64 from 1 (the bounds it is given)."""


class CaseFilter(filters.FilterSet):
    """Filters of the case list; unknown values are a 400."""

    # Ids within what the column holds: a larger number would overflow in the database (a 500, not a 400).
    cycle = IdFilter(field_name="cycle_id", min_value=1, max_value=MAX_DATABASE_ID)
    ritual_type = filters.CharFilter(field_name="cycle__ritual_type__code")
    status = filters.ChoiceFilter(choices=CaseStatus.choices)
    compliant = filters.BooleanFilter(field_name="compliant")
    unit = IdFilter(field_name="policy_unit_id", min_value=1, max_value=MAX_DATABASE_ID)

    class Meta:
        model = Case
        fields = ["cycle", "ritual_type", "status", "compliant", "unit"]


def case_api_queryset():
    """Cases with what a row needs, so a page costs a fixed number of queries."""
    return Case.objects.select_related(
        "cycle__ritual_type", "subject_employee", "subject_unit", "policy_unit"
    ).order_by("-opened_at", "-pk")


def case_detail_data(case: Case, context: Mapping[str, Any]) -> dict[str, Any]:
    """The detail answer of a case as it stands now (read again: after an action, the action's outcome)."""
    fresh = (
        case_api_queryset()
        .prefetch_related("step_records__by", "step_records__on_behalf_of", "attestations__by")
        .get(pk=case.pk)
    )
    evaluations = live_evaluations([fresh], today=timezone.localdate())
    return CaseDetailSerializer(fresh, context={**context, "evaluations": evaluations}).data


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cases you may see, with compliance computed for the whole page at once; decision actions."""

    filterset_class = CaseFilter
    serializer_class = CaseSerializer
    pagination_class = PageOrCursorPagination
    cursor_ordering = ("-opened_at", "-id")  # the list's own order, along the (opened_at, id) index

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        queryset = cases_visible_to(self.request.user, case_api_queryset())
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("step_records__by", "step_records__on_behalf_of", "attestations__by")
        elif self.action == "timeline":
            queryset = queryset.select_related("nominated_by", "decided_by")
        return queryset

    def get_serializer_class(self):
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    def _evaluations(self, cases: list[Case]) -> dict[int, Evaluation]:
        return live_evaluations(cases, today=timezone.localdate())

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        cases = list(page or ())
        serializer = CaseSerializer(
            cases, many=True, context={**self.get_serializer_context(), "evaluations": self._evaluations(cases)}
        )
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        return Response(self._detail(case))

    def _detail(self, case: Case) -> dict[str, Any]:
        return case_detail_data(case, self.get_serializer_context())

    @extend_schema(request=DecisionSerializer, responses={200: CaseDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Approve or reject at the case's next route step; the last approval passes the compliance gate."""
        case = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case_step_decide(case=case, by=signed_in_user(request.user), **body.validated_data)
        return Response(self._detail(case))

    @extend_schema(request=NoteSerializer, responses={200: CaseDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw an open case with a note (nominator, subject or HR)."""
        case = self.get_object()
        body = NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case_withdraw(case=case, by=signed_in_user(request.user), note=body.validated_data["note"])
        return Response(self._detail(case))

    @extend_schema(request=AttestSerializer, responses={200: CaseDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def attest(self, request: Request, pk: str | None = None) -> Response:
        """Attest on the case in a role you hold on it (manager, skip-level manager, HR, leadership)."""
        case = self.get_object()
        body = AttestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case_attest(case=case, by=signed_in_user(request.user), **body.validated_data)
        return Response(self._detail(case))

    @extend_schema(request=ExceptionRequestSerializer, responses={201: ExceptionSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="exceptions")
    def request_exception(self, request: Request, pk: str | None = None) -> Response:
        """Ask HR for an exception to named requirements, with a written justification."""
        case = self.get_object()
        body = ExceptionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        exception = case_exception_request(
            case=case,
            by=signed_in_user(request.user),
            justification=body.validated_data["justification"],
            waived_requirement_ids=body.validated_data["waived_requirements"],
        )
        return Response(ExceptionSerializer(exception).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Withdraw an attestation",
        parameters=[
            OpenApiParameter(
                "attestation_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="From the detail's attestations."
            )
        ],
        request=NoteSerializer,
        responses={200: CaseDetailSerializer, **ATTESTATION_ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"attestations/(?P<attestation_id>[0-9]+)/withdraw",
        url_name="attestation-withdraw",
    )
    def attestation_withdraw(self, request: Request, pk: str | None = None, attestation_id: str = "") -> Response:
        """Take back an attestation on an open case, with a note (the attester or HR); the requirement is unmet again.

        The ids are in the case detail's `attestations`. A withdrawn attestation is gone: asking again is a 409.
        """
        case = self.get_object()
        number = int(attestation_id)
        attestation = (
            Attestation.objects.filter(pk=number, case=case).select_related("case").first()
            if number <= MAX_DATABASE_ID
            else None
        )
        if attestation is None:
            # Withdrawing deletes the row: an id on no case was withdrawn (as the portal says); one on another is not
            # this case's.
            if number <= MAX_DATABASE_ID and Attestation.objects.filter(pk=number).exists():
                raise NotFound("This case has no attestation with that id.")
            raise InvalidTransition("This attestation has already been withdrawn.")
        body = NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case_attestation_withdraw(
            attestation=attestation, by=signed_in_user(request.user), note=body.validated_data["note"]
        )
        return Response(self._detail(case))

    @extend_schema(
        summary="The case's timeline",
        request=None,
        responses={200: TimelineEntrySerializer(many=True), 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        """What happened to the case, oldest first, from its rows and its audit trail; the subject does not see
        HR-internal entries (refused attempts, changes by hand, exception detail)."""
        case = self.get_object()
        entries = case_timeline(case, viewer=signed_in_user(request.user))
        return Response(TimelineEntrySerializer(entries, many=True).data)


class ExceptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Exception requests on cases you may see; HR grants or refuses (never their own request)."""

    serializer_class = ExceptionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PolicyException.objects.none()
        visible = cases_visible_to(self.request.user).values("pk")
        return (
            PolicyException.objects.filter(case_id__in=visible)
            .select_related("requested_by", "decided_by")
            .prefetch_related("waived_requirements")
            .order_by("-requested_at", "-pk")
        )

    @extend_schema(request=ExceptionDecisionSerializer, responses={200: ExceptionSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Grant or refuse the exception (HR, four eyes)."""
        exception = self.get_object()
        body = ExceptionDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = case_exception_decide(exception=exception, by=signed_in_user(request.user), **body.validated_data)
        return Response(self.get_serializer(done).data)


class CycleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cycles (readable by any signed-in user: names and deadlines are not personal)."""

    serializer_class = CycleSerializer
    queryset = Cycle.objects.select_related("ritual_type").order_by("-opens_on", "name")

    @extend_schema(
        summary="Open a case in the cycle",
        request=CaseOpenSerializer,
        responses={201: CaseDetailSerializer, **OPEN_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="cases", url_name="open-case")
    def open_case(self, request: Request, pk: str | None = None) -> Response:
        """Open one case (HR): an employee by number, an org unit by code, or a candidate with name, e-mail and the
        hiring manager's number; the policy versions in force today are pinned on it."""
        user = signed_in_user(request.user)
        cycle = self.get_object()
        if not is_hr(user):
            raise ApiPermissionDenied("Only HR can open cases.")
        body = CaseOpenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        case = case_open(
            cycle=cycle,
            subject_employee=data.get("subject_employee"),
            subject_unit=data.get("subject_unit"),
            candidate_name=data.get("candidate_name", ""),
            candidate_email=data.get("candidate_email", ""),
            nominated_by=data.get("nominated_by"),
            by=user,
        )
        return Response(case_detail_data(case, self.get_serializer_context()), status=status.HTTP_201_CREATED)
