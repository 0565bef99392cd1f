"""The inbox API: a unit's insights, taking one, releasing it, closing it with no action, reopening it, responding
with evidence, and raising an insight about another unit. Visibility is the selectors' (404 for what one may not
see), every write a service of apps.insights.inbox (403 refused, 409 not now, 400 field errors)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from apps.common.pagination import PageOrCursorPagination
from apps.common.users import signed_in_user
from apps.evidence.api.serializers import ErrorSerializer
from apps.evidence.models import Evidence
from apps.org.models import OrgUnit, Touchpoint

from .constants import Channel, InboxStatus, ScoreBand
from .inbox import inbox_close_no_action, inbox_release, inbox_reopen, inbox_respond, inbox_take, insight_raise
from .models import Insight, InsightRoute, InsightRouteQuerySet
from .selectors import inbox_list, inbox_route_get, inbox_routes_visible_to, inbox_unit_get, route_responses

app_name = "insights_inbox_api"


FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT, description='Invalid input: {"field": ["message", ...]} (non_field_errors for the rest).'
)
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="You may see the insight but not do this to it.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such insight, or not in an inbox you can read.")
CONFLICT = OpenApiResponse(ErrorSerializer, description="Its status does not allow this now (e.g. already taken).")
ACTION_ERRORS = {403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


class InboxUnitSerializer(serializers.ModelSerializer):
    """An org unit as the inbox shows it."""

    class Meta:
        model = OrgUnit
        fields = ["id", "code", "name"]
        read_only_fields = fields


class InboxPersonSerializer(serializers.Serializer):
    """The employee handling an insight."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="full_name", read_only=True)


class InboxInsightSerializer(serializers.ModelSerializer):
    """What the customer said, where and when."""

    touchpoint: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    from_unit = InboxUnitSerializer(read_only=True, allow_null=True, help_text="The internal customer's group, if any.")

    class Meta:
        model = Insight
        fields = [
            "id", "source_system", "source_id", "text", "score", "channel", "said_on", "customer_type",
            "touchpoint", "from_unit", "is_score_only", "gaming_flags", "received_at",
        ]  # fmt: skip
        read_only_fields = fields


class InboxRouteSerializer(serializers.ModelSerializer):
    """An insight in one unit's inbox, and where that unit is in answering it."""

    unit = InboxUnitSerializer(read_only=True)
    insight = InboxInsightSerializer(read_only=True)
    taken_by = InboxPersonSerializer(read_only=True, allow_null=True)
    page_url = serializers.SerializerMethodField(help_text="The insight's page in the portal.")

    class Meta:
        model = InsightRoute
        fields = [
            "id", "unit", "insight", "reason", "status", "taken_by", "taken_at", "no_action_reason",
            "responded_at", "closed_at", "routed_at", "said_on", "page_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_page_url(self, route: InsightRoute) -> str:
        return reverse("portal:inbox-route", args=[route.pk])


class InboxResponseSerializer(serializers.Serializer):
    """An evidence item responding to the insight (only those the caller may see)."""

    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    owner = serializers.CharField(source="owner.full_name", read_only=True)


class InboxRouteDetailSerializer(InboxRouteSerializer):
    """One routed insight with the evidence responding to it."""

    responses = serializers.SerializerMethodField()

    class Meta(InboxRouteSerializer.Meta):
        fields = [*InboxRouteSerializer.Meta.fields, "rule", "responses"]
        read_only_fields = fields

    @extend_schema_field(InboxResponseSerializer(many=True))
    def get_responses(self, route: InsightRoute) -> list[dict[str, Any]]:
        user = getattr(self.context.get("request"), "user", None)
        visible = [evidence for evidence, may_open in route_responses(user=user, route=route) if may_open]
        return list(InboxResponseSerializer(visible, many=True).data)


class InboxQuerySerializer(serializers.Serializer):
    """The inbox's filters; a value that is not one of the choices is a 400 naming the parameter."""

    unit = serializers.IntegerField(
        required=False, min_value=1, help_text="The unit's id; without it, your own unit's inbox."
    )
    status = serializers.ChoiceField(choices=InboxStatus.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    touchpoint = serializers.SlugRelatedField(
        slug_field="code", queryset=Touchpoint.objects.all(), required=False, help_text="A touchpoint's code."
    )
    score_band = serializers.ChoiceField(
        choices=ScoreBand.choices, required=False, help_text="low 0-6, middle 7-8, high 9-10, none: no score."
    )


class InboxNoActionSerializer(serializers.Serializer):
    """Why the unit will not act on the insight (a sentence at least)."""

    reason = serializers.CharField(max_length=2000, allow_blank=True, help_text="A sentence at least.")


class InboxRespondedSerializer(serializers.Serializer):
    """The draft evidence item started as a response, and where to complete it."""

    evidence = serializers.IntegerField(help_text="The new draft's id.")
    url = serializers.CharField(help_text="The draft in the evidence API: PATCH it, then POST .../submit/.")
    edit_url = serializers.CharField(help_text="The draft's form in the portal.")
    route = InboxRouteSerializer()


class InboxRaiseSerializer(serializers.Serializer):
    """An internal customer tells another unit what their group needs."""

    to_unit = serializers.SlugRelatedField(
        slug_field="code",
        queryset=OrgUnit.objects.active(),
        help_text="Code of the unit whose output your group receives (not your own).",
    )
    text = serializers.CharField(max_length=5000, allow_blank=True, help_text="What your group needs from them.")
    touchpoint = serializers.SlugRelatedField(
        slug_field="code", queryset=Touchpoint.objects.filter(active=True), required=False, allow_null=True
    )


class InboxRaisedRouteSerializer(serializers.Serializer):
    """An inbox the raised insight reached."""

    id = serializers.IntegerField()
    unit = serializers.CharField(source="unit.code")
    reason = serializers.CharField()


class InboxRaisedSerializer(serializers.Serializer):
    """The raised insight and the inboxes it reached."""

    id = serializers.IntegerField()
    source_system = serializers.CharField()
    source_id = serializers.CharField()
    routes = InboxRaisedRouteSerializer(many=True)


@extend_schema(
    summary="One unit's inbox, newest first",
    parameters=[InboxQuerySerializer],
    responses={200: InboxRouteSerializer(many=True), 400: FIELD_ERRORS, 404: NOT_FOUND},
)
class InboxView(generics.ListAPIView):
    """A unit's insights: its members, the managers above them and HR read it."""

    serializer_class = InboxRouteSerializer
    pagination_class = PageOrCursorPagination
    cursor_ordering = ("-said_on", "-id")  # the inbox's order, along its (unit, said_on, id) indexes
    queryset = InsightRoute.objects.none()

    def get_queryset(self) -> InsightRouteQuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return InsightRoute.objects.none()
        query = InboxQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        unit = inbox_unit_get(user=self.request.user, unit_id=filters.get("unit"))
        if unit is None:
            return InsightRoute.objects.none()
        return inbox_list(
            unit=unit,
            status=filters.get("status"),
            channel=filters.get("channel"),
            touchpoint=filters.get("touchpoint"),
            score_band=filters.get("score_band"),
        ).select_related("unit")


@extend_schema_view(
    retrieve=extend_schema(
        summary="One insight in an inbox", responses={200: InboxRouteDetailSerializer, 404: NOT_FOUND}
    )
)
class RouteViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """An insight in a unit's inbox and what the unit's people do with it."""

    serializer_class = InboxRouteDetailSerializer
    queryset = InsightRoute.objects.none()
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> InsightRouteQuerySet:
        if getattr(self, "swagger_fake_view", False):
            return InsightRoute.objects.none()
        return inbox_routes_visible_to(self.request.user)

    def get_object(self) -> InsightRoute:
        return inbox_route_get(user=self.request.user, pk=int(self.kwargs["pk"]))

    def _current(self) -> Response:
        """The route as it now stands, read again with everything the answer shows (after a service changed it)."""
        return Response(InboxRouteDetailSerializer(self.get_object(), context=self.get_serializer_context()).data)

    @extend_schema(
        summary="“I'm on it”: take the insight",
        request=None,
        responses={200: InboxRouteDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def take(self, request: Request, pk: str | None = None) -> Response:
        inbox_take(route=self.get_object(), by=signed_in_user(request.user))
        return self._current()

    @extend_schema(
        summary="Give the insight back to the unit",
        request=None,
        responses={200: InboxRouteDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        inbox_release(route=self.get_object(), by=signed_in_user(request.user))
        return self._current()

    @extend_schema(
        summary="Close with no action, saying why",
        request=InboxNoActionSerializer,
        responses={200: InboxRouteDetailSerializer, 400: FIELD_ERRORS, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="no-action", url_name="no-action")
    def no_action(self, request: Request, pk: str | None = None) -> Response:
        route = self.get_object()
        body = InboxNoActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        inbox_close_no_action(route=route, by=signed_in_user(request.user), reason=body.validated_data["reason"])
        return self._current()

    @extend_schema(
        summary="Reopen an insight closed with no action (managers of the unit, HR)",
        request=None,
        responses={200: InboxRouteDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        inbox_reopen(route=self.get_object(), by=signed_in_user(request.user))
        return self._current()

    @extend_schema(
        summary="Respond with evidence: start a draft item carrying the customer's words, linked to the insight",
        request=None,
        responses={201: InboxRespondedSerializer, 400: FIELD_ERRORS, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def respond(self, request: Request, pk: str | None = None) -> Response:
        evidence: Evidence = inbox_respond(route=self.get_object(), by=signed_in_user(request.user))
        route = self.get_object()
        body = {
            "evidence": evidence.pk,
            "url": request.build_absolute_uri(reverse("evidence_api:evidence-detail", args=[evidence.pk])),
            "edit_url": request.build_absolute_uri(reverse("portal:evidence-edit", args=[evidence.pk])),
            "route": InboxRouteSerializer(route, context=self.get_serializer_context()).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class RaiseView(APIView):
    """Raise an insight about another unit, as its internal customer."""

    @extend_schema(
        summary="Tell another unit what your group needs (an internal customer's insight)",
        request=InboxRaiseSerializer,
        responses={201: InboxRaisedSerializer, 400: FIELD_ERRORS, 403: FORBIDDEN},
    )
    def post(self, request: Request) -> Response:
        body = InboxRaiseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        insight = insight_raise(
            by=signed_in_user(request.user),
            to_unit=body.validated_data["to_unit"],
            text=body.validated_data["text"],
            touchpoint=body.validated_data.get("touchpoint"),
        )
        routes = list(insight.routes.select_related("unit").order_by("id"))
        data = {"id": insight.pk, "source_system": insight.source_system, "source_id": insight.source_id}
        return Response({**data, "routes": InboxRaisedRouteSerializer(routes, many=True).data}, status=201)


router = SimpleRouter()
router.register("routes", RouteViewSet, basename="route")

urlpatterns: list[URLPattern | URLResolver] = [
    path("inbox/", InboxView.as_view(), name="inbox"),
    path("raise/", RaiseView.as_view(), name="raise"),
    *router.urls,
]
