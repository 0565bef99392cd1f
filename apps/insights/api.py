"""The insights API for source systems and HR: ingest in batches (survey and support tools), list and read.

Ingest needs `insights.add_insight` (give it to the source system's service user, whose token the tool sends).
Lists and items are for HR and Leadership: every insight of every unit; units read theirs in the inbox API.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.pagination import PageOrCursorPagination
from apps.common.roles import is_hr, is_leadership
from apps.common.users import signed_in_user
from apps.evidence.filters import StrictBooleanFilter
from apps.org.models import JourneyStage, OrgUnit, Touchpoint

from .constants import INGEST_BATCH_MAX, Channel
from .models import Insight, InsightRoute
from .services import IngestRefused, insights_ingest

INGEST_PERMISSION = "insights.add_insight"


class CanIngest(BasePermission):
    """DRF: holders of insights.add_insight (a source system's service user); others 403, anonymous 401."""

    message = "Sending insights needs the permission insights.add_insight (ask HR for a source system's account)."

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(INGEST_PERMISSION))


class CanReadAllInsights(BasePermission):
    """DRF: HR and Leadership read every insight; others 403 (a unit's members use its inbox), anonymous 401."""

    message = "The list of all insights is for HR and Leadership; your unit's insights are in its inbox."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (is_hr(user) or is_leadership(user)))


class IngestSerializer(serializers.Serializer):
    """The batch's shape; each row is checked by the ingest service (per row and field)."""

    source_system = serializers.CharField(max_length=40, help_text="The sending tool, e.g. qualtrics or zendesk.")
    insights = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        max_length=INGEST_BATCH_MAX,
        error_messages={
            "max_length": f"At most {INGEST_BATCH_MAX:,} insights per call; split the batch.",
            "empty": "Send at least one insight.",
        },
        help_text=f"Up to {INGEST_BATCH_MAX:,} rows: source_id and said_on required; text or score; score_max "
        "(default 10), channel, customer_type, touchpoint, journey_stage (codes), units (list of unit codes).",
    )


INGEST_RESULT = inline_serializer(
    "IngestResult",
    {
        "created": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(help_text="Rows whose source id was already stored (left unchanged)."),
        "insights": inline_serializer(
            "IngestedInsight",
            {
                "source_id": serializers.CharField(),
                "id": serializers.IntegerField(),
                "created": serializers.BooleanField(),
                "units": serializers.ListField(child=serializers.CharField(), help_text="Codes of the units reached."),
            },
            many=True,
        ),
    },
)
INGEST_EXAMPLE = {
    "source_system": "qualtrics",
    "insights": [
        {
            "source_id": "R-1",
            "text": "The invoice listed a room I never booked.",
            "score": 3,
            "score_max": 10,
            "channel": "survey",
            "said_on": "2026-12-01",
            "customer_type": "external",
            "touchpoint": "invoice",
            "units": ["billing"],
        }
    ],
}


def refused_response(refused: IngestRefused) -> Response:
    """400 with `{"insights": {"<index>": {field: [messages]}}}`; batch-level problems under their own key."""
    body: dict[str, Any] = {}
    for index, fields in refused.errors.items():
        if index < 0:
            body.update(fields)
        else:
            body.setdefault("insights", {})[str(index)] = fields
    return Response(body, status=400)


class IngestView(APIView):
    permission_classes = [CanIngest]

    @extend_schema(
        summary="Send a batch of customer insights (idempotent on source_system + source_id)",
        request=IngestSerializer,
        responses={
            200: INGEST_RESULT,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description='Nothing written: {"insights": {"<row index>": {"field": ["message"]}}}, or the batch is '
                "empty or over the limit.",
            ),
            403: OpenApiResponse(OpenApiTypes.OBJECT, description="Without insights.add_insight."),
        },
        examples=[OpenApiExample("One survey response", value=INGEST_EXAMPLE, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        serializer = IngestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = insights_ingest(
                source_system=serializer.validated_data["source_system"],
                rows=serializer.validated_data["insights"],
                by=signed_in_user(request.user),
            )
        except IngestRefused as refused:
            return refused_response(refused)
        return Response(
            {
                "created": result.created,
                "duplicates": result.duplicates,
                "insights": [
                    {"source_id": row.source_id, "id": row.id, "created": row.created, "units": row.units}
                    for row in result.insights
                ],
            }
        )


class InsightRouteSerializer(serializers.ModelSerializer):
    """The insight in one unit's inbox: which unit, why, and where the unit is in answering it."""

    unit: serializers.SlugRelatedField[OrgUnit] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = InsightRoute
        fields = [
            "id", "unit", "unit_name", "reason", "status", "taken_at", "no_action_reason", "responded_at",
            "closed_at", "routed_at",
        ]  # fmt: skip
        read_only_fields = fields


class InsightSerializer(serializers.ModelSerializer):
    """An insight as HR reads it, with the inboxes it reached."""

    touchpoint: serializers.SlugRelatedField[Touchpoint] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    journey_stage: serializers.SlugRelatedField[JourneyStage] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    from_unit: serializers.SlugRelatedField[OrgUnit] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    routes = InsightRouteSerializer(many=True, read_only=True)

    class Meta:
        model = Insight
        fields = [
            "id", "source_system", "source_id", "text", "score", "channel", "said_on", "customer_type", "touchpoint",
            "journey_stage", "from_unit", "is_score_only", "gaming_flags", "received_at", "routes",
        ]  # fmt: skip
        read_only_fields = fields


class InsightFilter(django_filters.FilterSet):
    """Filters of `/api/insights/`: an unknown code or choice is a 400, never silently no filter."""

    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices, help_text="One or more (repeat it).")
    touchpoint = django_filters.ModelChoiceFilter(
        field_name="touchpoint", to_field_name="code", queryset=Touchpoint.objects.all(), help_text="Touchpoint code."
    )
    journey_stage = django_filters.ModelChoiceFilter(
        field_name="journey_stage", to_field_name="code", queryset=JourneyStage.objects.all(), help_text="Stage code."
    )
    unit = django_filters.ModelChoiceFilter(
        method="filter_unit", to_field_name="code", queryset=OrgUnit.objects.all(), help_text="Routed to this unit."
    )
    said_on_from = django_filters.DateFilter(field_name="said_on", lookup_expr="gte", help_text="On or after (date).")
    said_on_to = django_filters.DateFilter(field_name="said_on", lookup_expr="lte", help_text="On or before (date).")
    score_only = StrictBooleanFilter(field_name="is_score_only", help_text="true: scores without words only.")
    flagged = StrictBooleanFilter(method="filter_flagged", help_text="true: only texts that solicit a score.")

    class Meta:
        model = Insight
        fields: list[str] = []

    def filter_unit(self, queryset: QuerySet[Insight], name: str, value: OrgUnit | None) -> QuerySet[Insight]:
        if value is None:
            return queryset
        return queryset.filter(Exists(InsightRoute.objects.filter(insight_id=OuterRef("pk"), unit_id=value.pk)))

    def filter_flagged(self, queryset: QuerySet[Insight], name: str, value: bool | None) -> QuerySet[Insight]:
        if value is None:
            return queryset
        return queryset.exclude(gaming_flags=[]) if value else queryset.filter(gaming_flags=[])


@extend_schema_view(
    get=extend_schema(summary="Every insight, newest first (HR and Leadership)"),
)
class InsightListView(generics.ListAPIView[Insight]):
    permission_classes = [CanReadAllInsights]
    serializer_class = InsightSerializer
    filterset_class = InsightFilter
    pagination_class = PageOrCursorPagination
    cursor_ordering = ("-said_on", "-id")  # the list's order, along the (said_on, id) index

    def get_queryset(self) -> QuerySet[Insight]:
        return with_routes(Insight.objects.all())


@extend_schema_view(
    get=extend_schema(
        summary="One insight with the inboxes it reached (HR and Leadership)",
        responses={200: InsightSerializer, 404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such insight.")},
    ),
)
class InsightDetailView(generics.RetrieveAPIView[Insight]):
    permission_classes = [CanReadAllInsights]
    serializer_class = InsightSerializer

    def get_queryset(self) -> QuerySet[Insight]:
        return with_routes(Insight.objects.all())


def with_routes(queryset: QuerySet[Insight]) -> QuerySet[Insight]:
    """What InsightSerializer shows, in a fixed number of queries however many insights."""
    return queryset.select_related("touchpoint", "journey_stage", "from_unit").prefetch_related(
        Prefetch("routes", queryset=InsightRoute.objects.select_related("unit").order_by("id"))
    )


app_name = "insights_api"
urlpatterns: list[URLPattern | URLResolver] = [
    path("ingest/", IngestView.as_view(), name="insight-ingest"),
    path("", InsightListView.as_view(), name="insight-list"),
    path("<int:pk>/", InsightDetailView.as_view(), name="insight-detail"),
]
