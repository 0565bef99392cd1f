"""The few SQL pieces the ORM cannot say portably: JSON arrays exploded into rows, hours between timestamps.

Only PostgreSQL (production, CI) and SQLite (the embedded default) are supported, like the rest of the product.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import NotSupportedError, connection
from django.db.models import FloatField, Func, IntegerField, QuerySet, TextField
from django.db.models.functions import Cast, TruncDate


class HoursBetween(Func):
    """Whole hours from the first timestamp to the second, rounded down."""

    arity = 2
    output_field = IntegerField()

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> NoReturn:  # pragma: no cover
        raise NotSupportedError(f"HoursBetween is not written for {connection.vendor}.")

    def _parts(self, compiler: Any, connection: Any) -> tuple[str, str, list[Any]]:
        start, start_params = compiler.compile(self.source_expressions[0])
        end, end_params = compiler.compile(self.source_expressions[1])
        return start, end, [*start_params, *end_params]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        start, end, params = self._parts(compiler, connection)
        return f"FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / 3600)::integer", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        start, end, params = self._parts(compiler, connection)
        # julianday is a float of days: round to the second first, or 10 h reads 9.99999 h and truncates to 9.
        return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400) / 3600 AS INTEGER)", tuple(params)


class FrozenResults(Func):
    """A decided case's frozen checklist as compact text, '12:1,13:0' (requirement id : met), modifiers aside.

    Read in SQL so an export does not move and decode each case's whole frozen evaluation (a kilobyte of JSON
    with reasons and counted ids) to learn a handful of met/not-met flags.
    """

    arity = 1
    output_field = TextField()

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> NoReturn:  # pragma: no cover
        raise NotSupportedError(f"FrozenResults is not written for {connection.vendor}.")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source_expressions[0])
        return (
            "(SELECT string_agg((r.value->>'requirement_id') || ':' || "  # noqa: S608 - column and constants only
            "CASE WHEN (r.value->>'met')::boolean THEN '1' ELSE '0' END, ',') "
            f"FROM jsonb_array_elements({column}->'results') AS r(value) "
            f"WHERE COALESCE(r.value->>'kind', '') NOT IN ({_modifier_list()}))",
            list(params),
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        return (
            "(SELECT group_concat(json_extract(r.value, '$.requirement_id') || ':' || "  # noqa: S608 - as above
            "json_extract(r.value, '$.met'), ',') "
            f"FROM json_each({column}, '$.results') AS r "
            f"WHERE COALESCE(json_extract(r.value, '$.kind'), '') NOT IN ({_modifier_list()}))",
            tuple(params),
        )


class _NoRowConverter:
    """Mixin for expressions whose value the database already returns as the right Python type: Django then runs
    no converter at all over the rows (only the field's own and the backend's, if any), which matters over 100k
    streamed rows."""

    def get_db_converters(self, connection: Any) -> list[Any]:
        converters: list[Any] = self.output_field.get_db_converters(connection)  # type: ignore[attr-defined]
        return converters


class LocalDate(_NoRowConverter, TruncDate):
    """A timestamp's date in the current time zone, computed by the database (a date on PostgreSQL; SQLite's text
    is parsed by the backend's date converter)."""


class AsFloat(_NoRowConverter, Cast):
    """A decimal as a double, computed by the database: correctly rounded, as Python's float(Decimal) is."""

    def __init__(self, expression: Any) -> None:
        super().__init__(expression, FloatField())


def _modifier_list() -> str:
    """The modifier kinds as SQL string literals (constants of the code, never user input)."""
    from apps.policies.engine.requirement_kinds import MODIFIER_KINDS

    return ", ".join(f"'{kind}'" for kind in sorted(MODIFIER_KINDS))


def parse_frozen_results(text: str | None) -> list[tuple[int, bool]]:
    """(requirement id, met) pairs from FrozenResults' text."""
    if not text:
        return []
    pairs = []
    for part in text.split(","):
        requirement_id, _, met = part.partition(":")
        pairs.append((int(requirement_id), met in ("1", "true")))
    return pairs


def subquery_sql(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
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
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows
