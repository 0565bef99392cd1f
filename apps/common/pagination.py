"""Pagination: the API's bounded page size, and an admin paginator that does not count a whole big table."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination


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
