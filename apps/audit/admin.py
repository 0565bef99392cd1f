"""Read-only admin of the audit trail, with filters, search and a CSV export of the filtered list."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.apps import apps as django_apps
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.html import format_html, format_html_join

from apps.common.middleware import VALID_REQUEST_ID
from apps.common.pagination import EstimatedCountAdminMixin

from .checkpoints import checkpoint_storage, latest_checkpoint_name, read_checkpoint
from .constants import AuditAction
from .exports import CONTENT_TYPE, csv_filename
from .models import AuditEvent, AuditSeal, PersonKey
from .personal import ERASED, PREFIX, reveal, reveal_changes, reveal_events
from .registry import action_choices, action_label
from .services import audit_export_csv, audit_record

logger = logging.getLogger(__name__)

# Query-string keys of the changelist that are not filters.
_NOT_FILTERS = {"o", "p", "all", "_changelist_filters"}
# Ciphertext starts with this whatever its version (apps/audit/personal.py): the search leaves those texts out.
ENCRYPTED_PREFIX = PREFIX.split(":")[0] + ":"
# A request id (as the middleware accepts it) is searched from this length, with a digit.
REQUEST_ID_MIN = 12
# Users a name may match before the search stops adding more (a name matching hundreds of users says little).
MATCHED_USERS_MAX = 200


class ActorFilter(admin.SimpleListFilter):
    """Filter on who acted: a staff user (by name), or "System" (processes, commands, anonymous visitors).

    Names are stored encrypted in the events (`actor_name`), so the filter works on the user id.
    """

    title = "actor"
    parameter_name = "actor"
    SYSTEM = "system"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        staff = get_user_model().objects.filter(is_staff=True).order_by("first_name", "last_name", "username")
        return [(self.SYSTEM, "System"), *((str(u.pk), u.get_full_name() or u.get_username()) for u in staff)]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        if value == self.SYSTEM:
            return queryset.filter(actor_user_id__isnull=True)
        if value and value.isdigit():
            return queryset.filter(actor_user_id=int(value))
        return queryset


class ActionFilter(admin.SimpleListFilter):
    """Filter on the action, offering every action the apps registered (apps.audit.registry)."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return action_choices()

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(action=self.value()) if self.value() else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    """Filter on the kind of object, offering every installed model (fixed: no DISTINCT over the whole trail).

    Events about something that is not a model (a report, a policy preview) are reached with `?object_type=<type>`.
    """

    title = "object type"
    parameter_name = "object_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        models = sorted(django_apps.get_models(), key=lambda model: model._meta.label_lower)
        return [(model._meta.label_lower, model._meta.label_lower) for model in models]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(object_type=self.value()) if self.value() else queryset


def _seal_of(event: AuditEvent) -> AuditSeal | None:
    try:
        return event.seal
    except AuditSeal.DoesNotExist:
        return None


# Where the changelist leaves the keys that reveal its page's personal values (read once per page).
_PAGE_KEYS_ATTR = "revealed_keys"


class _RevealingChangeList(ChangeList):
    """The changelist, reading the person keys of the page's events in one query to show their values."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        events = list(self.result_list)
        keys = reveal_events(events)
        for event in events:
            setattr(event, _PAGE_KEYS_ATTR, keys)


def _keys_of(event: AuditEvent) -> dict[int, PersonKey] | None:
    return getattr(event, _PAGE_KEYS_ATTR, None)


@admin.register(AuditEvent)
class AuditEventAdmin(EstimatedCountAdminMixin, admin.ModelAdmin):
    list_display = (
        "id", "chain_position", "occurred_at", "actor_text", "action_name", "object_type", "object_id", "object_text",
    )  # fmt: skip
    list_filter = (
        ActorFilter,
        ActionFilter,
        ObjectTypeFilter,
        "occurred_at",
    )
    # The object's text, the acting user (by id, login or name: `actor_name` holds ciphertext), a request id, an
    # object id: get_search_results decides which apply to a term.
    search_fields = ("object_repr",)
    # No date hierarchy: it reads the distinct years and months of the whole trail; the date filter has fixed choices.
    ordering = ("-id",)
    # No whole-table COUNT(*) for the unfiltered list (EstimatedCountAdminMixin), nor next to a filtered one.
    show_full_result_count = False
    actions = ["export_selected_csv"]
    list_select_related = ("seal",)
    fields = (
        "id",
        "chain_position",
        "occurred_at",
        "actor_text",
        "actor_user_id",
        "actor_ip",
        "request_id",
        "action",
        "object_type",
        "object_id",
        "object_text",
        "changes_table",
        "context",
        "chain_prev_hash",
        "chain_hash",
        "sealed_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _RevealingChangeList

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        """Events whose object text contains the term, or done by the users whose login or name matches; a term of
        their shape also finds a request id or an object or user id.

        Each part reads an index or is asked for only when the term can be one: the object text through the trigram
        index of clear texts (audit 0014; a person's values are ciphertext, which no typed term matches), the users
        by their own table first (no user matched: no condition on the trail), a request id only for a term of 12
        characters or more with a digit, an id only for digits. An OR with a condition no index serves would make
        PostgreSQL read the whole trail, twice (the count, then the page).
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        found = Q(object_repr__icontains=term) & ~Q(object_repr__startswith=ENCRYPTED_PREFIX)
        if len(term) >= REQUEST_ID_MIN and any(c.isdigit() for c in term) and VALID_REQUEST_ID.match(term):
            found |= Q(request_id=term)
        if term.isdigit():
            found |= Q(object_id=term) | Q(actor_user_id=int(term))
        users = list(
            get_user_model()
            .objects.filter(Q(username__iexact=term) | Q(first_name__icontains=term) | Q(last_name__icontains=term))
            .values_list("pk", flat=True)[:MATCHED_USERS_MAX]
        )
        if users:
            found |= Q(actor_user_id__in=users)
        return queryset.filter(found), False

    @admin.display(description="actor")
    def actor_text(self, obj: AuditEvent) -> str:
        """Who acted: the user's name decrypted ("Erased person #N" once erased), or the process."""
        name = reveal(obj.actor_name, _keys_of(obj))
        if name == ERASED and obj.actor_user_id is not None:
            return f"Erased person #{obj.actor_user_id}"
        return str(name)

    @admin.display(description="object", ordering="object_repr")
    def object_text(self, obj: AuditEvent) -> str:
        """The object's text, decrypted when it is a person's ("[erased]" once they were erased)."""
        return str(reveal(obj.object_repr, _keys_of(obj)))

    @admin.display(description="action", ordering="action")
    def action_name(self, obj: AuditEvent) -> str:
        return action_label(obj.action)

    @admin.display(description="chain position", ordering="seal__sequence")
    def chain_position(self, obj: AuditEvent) -> str:
        seal = _seal_of(obj)
        return str(seal.sequence) if seal is not None else "awaiting the sealer"

    @admin.display(description="previous hash")
    def chain_prev_hash(self, obj: AuditEvent) -> str:
        seal = _seal_of(obj)
        return seal.prev_hash if seal is not None else "-"

    @admin.display(description="hash")
    def chain_hash(self, obj: AuditEvent) -> str:
        seal = _seal_of(obj)
        return seal.hash if seal is not None else "-"

    @admin.display(description="sealed at")
    def sealed_at(self, obj: AuditEvent) -> Any:
        seal = _seal_of(obj)
        return seal.sealed_at if seal is not None else "-"

    @admin.display(description="changes (field: old → new)")
    def changes_table(self, obj: AuditEvent) -> str:
        if not obj.changes:
            return "-"
        rows = []
        for name, pair in reveal_changes(obj.changes).items():
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            rows.append((name, json.dumps(old, ensure_ascii=False), json.dumps(new, ensure_ascii=False)))
        body = format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", rows)
        return format_html("<table><tr><th>field</th><th>old</th><th>new</th></tr>{}</table>", body)

    def get_urls(self) -> list[Any]:
        export = path("export/", self.admin_site.admin_view(self.export_view), name="audit_auditevent_export")
        checkpoint = path(
            "checkpoint/", self.admin_site.admin_view(self.checkpoint_view), name="audit_auditevent_checkpoint"
        )
        return [export, checkpoint, *super().get_urls()]

    def checkpoint_view(self, request: HttpRequest) -> HttpResponseBase:
        """Download the latest signed checkpoint of the chain (to keep somewhere else); the download is audited."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            storage = checkpoint_storage()
            name = latest_checkpoint_name(storage)
            data = read_checkpoint(name, storage=storage) if name is not None else None
        except OSError as exc:
            logger.warning("Could not read the audit checkpoint storage: %s", exc)
            messages.error(request, "The checkpoint storage cannot be read right now; try again later.")
            return redirect("admin:audit_auditevent_changelist")
        if name is None or data is None:
            messages.warning(
                request,
                "No checkpoint has been written yet. The worker writes one every few minutes once events are sealed.",
            )
            return redirect("admin:audit_auditevent_changelist")
        with transaction.atomic():
            audit_record(
                action=AuditAction.CHECKPOINT_DOWNLOADED,
                object_type=AuditEvent._meta.label_lower,
                object_repr=f"checkpoint {name}",
                context={"checkpoint": name},
            )
        response = HttpResponse(data, content_type="application/json")
        filename = "audit-checkpoint-" + name.rsplit("/", 1)[-1]
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def _stream(self, events: Any, filters: dict[str, Any]) -> StreamingHttpResponse:
        _, lines = audit_export_csv(events=events, filters=filters, destination="admin download")
        transaction.on_commit(_request_export_checkpoint)
        response = StreamingHttpResponse(lines, content_type=CONTENT_TYPE)
        name = csv_filename(filters.get("occurred_at__gte"), filters.get("occurred_at__lt"))
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """Stream the changelist as CSV, with the same filters and search as the page the link was on."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        events = changelist.get_queryset(request)
        filters = {key: value for key, value in request.GET.items() if key not in _NOT_FILTERS}
        return self._stream(events, filters)

    @admin.action(description="Export selected events as CSV")
    def export_selected_csv(self, request: HttpRequest, queryset: Any) -> StreamingHttpResponse:
        return self._stream(queryset, {"selected": True})


def _request_export_checkpoint() -> None:
    """Ask a worker to seal the export's event and write a checkpoint covering it (beat writes one anyway)."""
    from .tasks import checkpoint

    try:
        checkpoint.apply_async(kwargs={"reason": "export"}, retry=False, ignore_result=True)
    except Exception as exc:  # noqa: BLE001 - a broker outage must not fail the export; beat checkpoints later
        logger.warning("Could not ask a worker for an audit checkpoint after an export (%s).", exc)
