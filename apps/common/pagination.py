"""Pagination: the API's bounded page size, keyset (cursor) pages for big API lists, and an admin paginator that
does not count a whole big table."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response


class DefaultPagination(PageNumberPagination):
    """Page-number pagination; `page_size` may be asked for up to 200 (larger asks get 200)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def table_row_estimate(queryset: QuerySet[Any]) -> int | None:
    """PostgreSQL's estimate of the rows of the queryset's table (`pg_class.reltuples`), or None.

    None on other databases, and when the table was never analysed (PostgreSQL then reports -1).
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class EstimatedCountPaginator(Paginator):
    """A paginator whose count, for an unfiltered list of a big PostgreSQL table, is the planner's estimate.

    `COUNT(*)` of a table of hundreds of thousands of rows reads all of them (seconds) only to print the number of
    pages. When `estimate` is true (the caller knows no filter or search applies) and PostgreSQL estimates at least
    `exact_below` rows, `count` is `pg_class.reltuples` (kept by autovacuum's ANALYZE): the total shown is then
    approximate and the last page may be a little short or empty. Otherwise (a filter or search applies, another
    database, a small or never-analysed table) `count` is the exact `COUNT(*)` of the filtered list, as usual.
    """

    exact_below = 10_000

    def __init__(self, *args: Any, estimate: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.estimate = estimate

    @cached_property
    def count(self) -> int:
        if self.estimate and isinstance(self.object_list, QuerySet):
            estimated = table_row_estimate(self.object_list)
            if estimated is not None and estimated >= self.exact_below:
                return estimated
        return super().count


# Query-string keys of an admin changelist that neither filter nor search.
CHANGELIST_KEYS_NOT_FILTERING = frozenset({"o", "p", "_popup", "_to_field"})


class EstimatedCountAdminMixin:
    """For the admin of a big table: no whole-table `COUNT(*)` when the changelist shows the unfiltered list.

    Use it on admins whose `get_queryset` is the whole table, and set `show_full_result_count = False` on the admin
    too (it drops Django's second count, of the unfiltered table, next to a filtered one).
    """

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Paginator:
        unfiltered = not (set(request.GET) - CHANGELIST_KEYS_NOT_FILTERING)
        return EstimatedCountPaginator(queryset, per_page, orphans, allow_empty_first_page, estimate=unfiltered)


class KeysetPagination(CursorPagination):
    """DRF's cursor pagination in a fixed order (set `ordering`, led by an indexed column, ending with the id).

    A page is read from the index after the previous page's last position (`WHERE impact_date < … ORDER BY …
    LIMIT`), so the thousandth page costs what the first does and no count is run. A cursor that was not handed out
    by a `next`/`previous` link is a 400 naming the parameter.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering: Any = ("-id",)

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> tuple[str, ...]:
        return tuple([self.ordering] if isinstance(self.ordering, str) else self.ordering)

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {self.cursor_query_param: ["Invalid cursor: follow a next or previous link of a cursor page."]}
            ) from None


class PageOrCursorPagination(DefaultPagination):
    """Page numbers, as ever; with `?cursor=` (empty for the first page) keyset pages instead.

    Page numbers count the filtered list and skip rows (`OFFSET`): fine for small lists and the first pages. A
    client walking a big list asks `?cursor=` and follows `next`: `{"next": …, "previous": …, "results": […]}`, in
    the view's `cursor_ordering` attribute, else by id, newest first (no `count`; `page` and `ordering` sent along
    with a cursor are ignored).
    """

    cursor_query_param = "cursor"
    cursor_ordering: tuple[str, ...] = ("-id",)
    keyset: KeysetPagination | None = None

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        if self.cursor_query_param not in request.query_params:
            self.keyset = None
            return super().paginate_queryset(queryset, request, view)
        # With a cursor, `page` and `ordering` are ignored: cursor pages keep their own order (any schema-valid
        # combination is answered, so a client that sends a stale `page` along still walks the list).
        self.keyset = KeysetPagination()
        self.keyset.ordering = getattr(view, "cursor_ordering", self.cursor_ordering)
        self.keyset.page_size = self.get_page_size(request) or self.page_size
        return self.keyset.paginate_queryset(queryset, request, view)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Page numbers' answer, with `count` optional: a cursor page has none."""
        answer = super().get_paginated_response_schema(schema)
        answer["required"] = [name for name in answer.get("required", []) if name != "count"]
        answer["properties"]["count"]["description"] = "Rows of the filtered list (page-number answers only)."
        return answer

    def get_paginated_response(self, data: Any) -> Response:
        if self.keyset is not None:
            return self.keyset.get_paginated_response(data)
        return super().get_paginated_response(data)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Keyset pages instead of page numbers: empty for the first page, then follow `next`. "
                "Cursor answers have no `count`.",
                "schema": {"type": "string"},
            },
        ]
