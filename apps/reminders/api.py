"""REST API for in-app notifications: the caller's own list (with the unread count for a bell) and marking read."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.common.limits import MAX_DATABASE_ID
from apps.common.pagination import PageOrCursorPagination
from apps.common.schema import CONSTRAINTS

from .messages import notification_title
from .models import Reminder
from .selectors import notification_link, notification_list, notification_unread_count
from .services import notifications_mark_read

UNREAD_HEADER = "X-Unread-Count"
MAX_IDS = 500


class NotificationSerializer(serializers.ModelSerializer):
    """One notification: what it is about (its e-mail subject), why, where it leads, and whether it was read."""

    title = serializers.SerializerMethodField()
    link = serializers.SerializerMethodField()

    class Meta:
        model = Reminder
        fields = ["id", "kind", "title", "reason", "link", "created_at", "due_at", "status", "read_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_title(self, reminder: Reminder) -> str:
        return notification_title(reminder)

    @extend_schema_field(OpenApiTypes.STR)
    def get_link(self, reminder: Reminder) -> str:
        """A path of this site (the item, the case or the list), or '' when there is nowhere to go."""
        return notification_link(reminder)


class NotificationPagination(PageOrCursorPagination):
    """The default pages, plus `unread`: how many of all the caller's notifications are unread (for a bell)."""

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["unread"] = {
            "type": "integer",
            "description": "How many of your notifications (all pages) are unread; also the X-Unread-Count header.",
            "example": 3,
        }
        paginated["required"] = [*paginated.get("required", []), "unread"]
        return paginated


@extend_schema_serializer(
    extensions={
        # What validate() asks: some ids, or "all": true.
        CONSTRAINTS: {
            "anyOf": [
                {"required": ["ids"], "properties": {"ids": {"minItems": 1}}},
                {"required": ["all"], "properties": {"all": {"enum": [True]}}},
            ]
        }
    }
)
class MarkReadSerializer(serializers.Serializer):
    """Which notifications to mark read: some by id, or all of them."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DATABASE_ID),
        required=False,
        max_length=MAX_IDS,
        help_text="Ids from the list; ids of other people's notifications are ignored.",
    )
    all = serializers.BooleanField(required=False, default=False, help_text="Mark every unread notification read.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": 'Name the notifications to mark read, or send "all": true.'})
        return attrs


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many unread notifications were marked read now.")
    unread = serializers.IntegerField(help_text="How many are still unread.")


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your notifications, newest first; listing does not mark them read (the portal page does, the API asks)."""

    serializer_class = NotificationSerializer
    pagination_class = NotificationPagination
    cursor_ordering = ("-created_at", "-id")  # the list's own order

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Reminder.objects.none()
        return notification_list(user=self.request.user)

    @extend_schema(summary="Your notifications")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Every notification you get by e-mail, newest first, a page at a time; cancelled ones are left out."""
        response = super().list(request, *args, **kwargs)
        unread = notification_unread_count(user=request.user)
        response.data["unread"] = unread
        response[UNREAD_HEADER] = str(unread)
        return response

    @extend_schema(
        summary="Mark notifications read",
        request=MarkReadSerializer,
        responses={
            200: MarkedSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Neither ids nor all, or an id that is no id."),
        },
    )
    @action(detail=False, methods=["post"], url_path="read", pagination_class=None, filter_backends=[])
    def read(self, request: Request) -> Response:
        """Mark your notifications read, some by id or all; other people's are never touched."""
        body = MarkReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data["all"]:
            ids = list(notification_list(user=request.user).filter(read_at__isnull=True).values_list("pk", flat=True))
        else:
            ids = body.validated_data["ids"]
        marked = notifications_mark_read(user=request.user, reminder_ids=ids)
        unread = notification_unread_count(user=request.user)
        return Response({"marked": marked, "unread": unread}, headers={UNREAD_HEADER: str(unread)})
