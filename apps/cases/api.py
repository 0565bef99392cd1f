"""REST API for cases: lists and details with the live checklist, the timeline, opening a case, and the decision
actions with the same rules as the pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from apps.common.errors import InvalidTransition
from apps.common.limits import MAX_DATABASE_ID
from apps.common.roles import is_hr
from apps.common.users import signed_in_user
from apps.org.models import Employee, OrgUnit
from apps.policies.engine import Evaluation

from .constants import AttestationRole, CaseStatus, StepDecision
from .models import Attestation, Case, Cycle, PolicyException
from .permissions import cases_visible_to
from .selectors import checklist_rows, live_evaluations
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


class CycleSerializer(serializers.ModelSerializer):
    ritual_type: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Cycle
        fields = ["id", "name", "ritual_type", "status", "opens_on", "evidence_deadline", "decision_deadline",
                  "reminder_offsets"]  # fmt: skip


class ChecklistRowSerializer(serializers.Serializer):
    requirement_id = serializers.IntegerField()
    kind = serializers.CharField()
    # A field named like Field.label: the serializer's metaclass takes declared fields off the class.
    label = serializers.CharField()  # type: ignore[assignment]
    met = serializers.BooleanField()
    have = serializers.IntegerField()
    need = serializers.IntegerField()
    counted_ids = serializers.ListField(child=serializers.IntegerField())
    reason = serializers.CharField()
    weight = serializers.IntegerField()


class StepSerializer(serializers.Serializer):
    """One decided step of the case's approval route (the schema of CaseDetail.steps)."""

    order = serializers.IntegerField()
    step = serializers.CharField()
    decision = serializers.CharField()
    by = serializers.CharField()
    on_behalf_of = serializers.CharField(allow_null=True)
    comment = serializers.CharField()
    at = serializers.DateTimeField()


class AttestationSerializer(serializers.Serializer):
    """An attestation standing on the case (the schema of CaseDetail.attestations); its id names it to withdraw it."""

    id = serializers.IntegerField()
    role = serializers.CharField()
    by = serializers.CharField()
    note = serializers.CharField()
    at = serializers.DateTimeField()


class CaseSerializer(serializers.ModelSerializer):
    """A case with its compliance; the detail view adds the checklist rows."""

    subject = serializers.CharField(source="subject_name", read_only=True)
    subject_kind = serializers.SerializerMethodField()
    cycle = serializers.CharField(source="cycle.name", read_only=True)
    ritual_type = serializers.CharField(source="cycle.ritual_type.code", read_only=True)
    policy_unit = serializers.CharField(source="policy_unit.name", read_only=True)
    compliant = serializers.SerializerMethodField()
    requirements_met = serializers.SerializerMethodField()
    requirements_total = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id", "subject", "subject_kind", "subject_employee", "subject_unit", "candidate_name", "cycle",
            "ritual_type", "policy_unit", "status", "opened_on", "decided_at", "decision_note", "compliant",
            "requirements_met", "requirements_total",
        ]  # fmt: skip
        read_only_fields = fields

    def _rows(self, case: Case) -> list[dict[str, Any]]:
        evaluations: dict[int, Evaluation] = self.context.get("evaluations", {})
        return checklist_rows(case, evaluations.get(case.pk))

    @extend_schema_field(OpenApiTypes.STR)
    def get_subject_kind(self, case: Case) -> str:
        return case.cycle.ritual_type.subject_kind

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_compliant(self, case: Case) -> bool | None:
        if not case.is_open and case.frozen_evaluation:
            return bool(case.frozen_evaluation.get("compliant"))
        evaluation = self.context.get("evaluations", {}).get(case.pk)
        return evaluation.compliant if evaluation is not None else case.compliant

    @extend_schema_field(OpenApiTypes.INT)
    def get_requirements_met(self, case: Case) -> int:
        return sum(1 for row in self._rows(case) if row["met"])

    @extend_schema_field(OpenApiTypes.INT)
    def get_requirements_total(self, case: Case) -> int:
        return len(self._rows(case))


class CaseDetailSerializer(CaseSerializer):
    checklist = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()
    attestations = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "checklist", "steps", "attestations", "frozen_evaluation"]
        read_only_fields = fields

    @extend_schema_field(ChecklistRowSerializer(many=True))
    def get_checklist(self, case: Case) -> list[dict[str, Any]]:
        return self._rows(case)

    @extend_schema_field(StepSerializer(many=True))
    def get_steps(self, case: Case) -> list[dict[str, Any]]:
        return [
            {
                "order": r.order,
                "step": r.step_name,
                "decision": r.decision,
                "by": r.by.get_username(),
                "on_behalf_of": r.on_behalf_of.get_username() if r.on_behalf_of else None,
                "comment": r.comment,
                "at": r.at.isoformat(),
            }
            for r in case.step_records.all()
        ]

    @extend_schema_field(AttestationSerializer(many=True))
    def get_attestations(self, case: Case) -> list[dict[str, Any]]:
        return [
            {"id": a.pk, "role": a.role, "by": a.by.get_username(), "note": a.note, "at": a.at.isoformat()}
            for a in sorted(case.attestations.all(), key=lambda a: a.pk)
        ]


class TimelineEntrySerializer(serializers.Serializer):
    """One moment of a case's story; `internal` entries are shown only to those who see HR-internal detail."""

    at = serializers.DateTimeField()
    actor = serializers.CharField(help_text="Display name; empty when not shown to you.")
    kind = serializers.CharField(
        help_text="opened, evidence, link, attestation, exception, step, decision, compliance, change or event."
    )
    text = serializers.CharField()
    url = serializers.CharField(allow_null=True, help_text="A page to read more (a path of this site), or null.")
    internal = serializers.BooleanField()


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=StepDecision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000)


class AttestSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=AttestationRole.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class CaseOpenSerializer(serializers.Serializer):
    """The subject of a new case, named as in the nominations CSV: employee number, unit code, or a candidate."""

    subject_employee = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="Employee number (promotion, raise, bonus, ...)."
    )
    subject_unit = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Org unit code (budget expansion)."
    )
    candidate_name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    candidate_email = serializers.CharField(
        required=False, allow_blank=True, max_length=254, default="", help_text="One live case per e-mail and cycle."
    )
    nominated_by = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="Employee number of the nominator (required for hiring: the hiring manager).",
    )

    def validate_subject_employee(self, number: str) -> Employee | None:
        # Inactive people are found here so the service can say that they are not active.
        if not number.strip():
            return None
        employee = Employee.objects.select_related("org_unit").filter(employee_number=number.strip()).first()
        if employee is None:
            raise serializers.ValidationError(f"No employee numbered '{number.strip()}'.")
        return employee

    def validate_subject_unit(self, code: str) -> OrgUnit | None:
        if not code.strip():
            return None
        unit = OrgUnit.objects.active().filter(code=code.strip()).first()
        if unit is None:
            raise serializers.ValidationError(f"No active org unit with code '{code.strip()}'.")
        return unit

    def validate_nominated_by(self, number: str) -> Employee | None:
        if not number.strip():
            return None
        employee = Employee.objects.active().select_related("org_unit").filter(employee_number=number.strip()).first()
        if employee is None:
            raise serializers.ValidationError(f"No active employee numbered '{number.strip()}'.")
        return employee


class ExceptionRequestSerializer(serializers.Serializer):
    justification = serializers.CharField(max_length=5000)
    waived_requirements = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DATABASE_ID), min_length=1, max_length=50
    )


class ExceptionSerializer(serializers.ModelSerializer):
    waived_requirements: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None)

    class Meta:
        model = PolicyException
        fields = ["id", "case", "status", "justification", "waived_requirements", "requested_by", "requested_at",
                  "decided_by", "decided_at", "decision_note"]  # fmt: skip
        read_only_fields = fields


class ExceptionDecisionSerializer(serializers.Serializer):
    grant = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


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
