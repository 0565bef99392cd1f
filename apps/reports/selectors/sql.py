"""The few SQL pieces the ORM cannot say portably: JSON arrays exploded into rows, hours between timestamps.

Only PostgreSQL (production, CI) and SQLite (the embedded default) are supported, like the rest of the product.
"""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError, connection
from django.db.models import Func, IntegerField, QuerySet


class HoursBetween(Func):
    """Whole hours from the first timestamp to the second, rounded down."""

    arity = 2
    output_field = IntegerField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # pragma: no cover - other vendors
        raise NotSupportedError(f"HoursBetween is not written for {connection.vendor}.")

    def _parts(self, compiler: Any, connection: Any) -> tuple[str, str, list[Any]]:
        start, start_params = compiler.compile(self.source_expressions[0])
        end, end_params = compiler.compile(self.source_expressions[1])
        return start, end, [*start_params, *end_params]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        start, end, params = self._parts(compiler, connection)
        return f"FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / 3600)::integer", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        start, end, params = self._parts(compiler, connection)
        # julianday is a float of days: round to the second first, or 10 h reads 9.99999 h and truncates to 9.
        return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400) / 3600 AS INTEGER)", params


def subquery_sql(queryset: QuerySet) -> tuple[str, tuple[Any, ...]]:
    """The SQL of `queryset.values('pk')`, to use as `... WHERE id IN (<sql>)` in a hand-written query."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    return sql, tuple(params)


def json_elements(column: str, path: str | None = None) -> tuple[str, str]:
    """A FROM fragment that turns the JSON array in `column` (or at its key `path`) into rows named `elem`,
    and a format string for reading a key of each element: `key_sql.format(key="met")`."""
    if connection.vendor == "postgresql":
        source = f"{column}->'{path}'" if path else column
        return f"CROSS JOIN LATERAL jsonb_array_elements({source}) AS elem(value)", "elem.value->>'{key}'"
    if connection.vendor == "sqlite":
        source = f"{column}, '$.{path}'" if path else column
        return f"CROSS JOIN json_each({source}) AS elem", "json_extract(elem.value, '$.{key}')"
    raise NotSupportedError(f"Reports read JSON arrays on PostgreSQL and SQLite only, not {connection.vendor}.")


def json_true(value: Any) -> bool:
    """A JSON boolean read by `json_elements` ('true' text on PostgreSQL, 1 on SQLite)."""
    return value in (True, 1, "true")


def run(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Run one read query and return its rows."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
