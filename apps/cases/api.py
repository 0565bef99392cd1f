"""REST API for cases: lists and details with the live checklist, and the decision actions with the same rules."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.common.limits import MAX_DATABASE_ID
from apps.common.users import signed_in_user
from apps.policies.engine import Evaluation

from .constants import AttestationRole, CaseStatus, StepDecision
from .models import Case, Cycle, PolicyException
from .permissions import cases_visible_to
from .selectors import checklist_rows, live_evaluations
from .services import case_attest, case_exception_decide, case_exception_request, case_step_decide, case_withdraw

ERRORS = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT, description="Invalid input, or the policy is not met (the message lists why)."
    ),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description="You may see the case but not do this."),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such case, or you may not see it."),
    409: OpenApiResponse(OpenApiTypes.OBJECT, description="The case is already decided."),
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

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "checklist", "steps", "frozen_evaluation"]
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


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=StepDecision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000)


class AttestSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=AttestationRole.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


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


class CaseFilter(filters.FilterSet):
    """Filters of the case list; unknown values are a 400."""

    # Ids within what the column holds: a larger number would overflow in the database (a 500, not a 400).
    cycle = filters.NumberFilter(field_name="cycle_id", min_value=1, max_value=MAX_DATABASE_ID)
    ritual_type = filters.CharFilter(field_name="cycle__ritual_type__code")
    status = filters.ChoiceFilter(choices=CaseStatus.choices)
    compliant = filters.BooleanFilter(field_name="compliant")
    unit = filters.NumberFilter(field_name="policy_unit_id", min_value=1, max_value=MAX_DATABASE_ID)

    class Meta:
        model = Case
        fields = ["cycle", "ritual_type", "status", "compliant", "unit"]


def case_api_queryset():
    """Cases with what a row needs, so a page costs a fixed number of queries."""
    return Case.objects.select_related(
        "cycle__ritual_type", "subject_employee", "subject_unit", "policy_unit"
    ).order_by("-opened_at", "-pk")


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cases you may see, with compliance computed for the whole page at once; decision actions."""

    filterset_class = CaseFilter
    serializer_class = CaseSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        queryset = cases_visible_to(self.request.user, case_api_queryset())
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("step_records__by", "step_records__on_behalf_of")
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
        fresh = case_api_queryset().prefetch_related("step_records__by", "step_records__on_behalf_of").get(pk=case.pk)
        context = {**self.get_serializer_context(), "evaluations": self._evaluations([fresh])}
        return CaseDetailSerializer(fresh, context=context).data

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
