"""`save()` of a hot model by statements built once per database and field list, then run again with new values.

Django builds each save's INSERT or UPDATE anew: its compiler walks the fields, quotes each column and, for an
update, first builds a queryset filtered by the primary key. For a model with thirty columns, saved on every
request (an evidence item is created, then submitted), that costs more of the web process's CPU than the
database spends running the statement. `PreparedSaveMixin` keeps, for each database and each list of fields,
the SQL the compiler would write, and runs it with the values the compiler would send (each field's `pre_save`
and `get_db_prep_save`, as Django calls them); on PostgreSQL the statement is also prepared on the server once per
connection (`apps.common.prepared.fetch_all`).

Only what Django's own code would do the same way is taken: anything else goes to Django's `_do_insert` and
`_do_update` unchanged, namely a raw save (fixtures), a value that is an expression (`F()`, a database default),
a model instance assigned to a plain field, a field with a placeholder of its own, and for an update a base
manager with filters or `select_on_save`. Signals, the audit trail's capture and transactions are around these two
methods, not in them, so they see no difference (tests/common/test_prepared_writes.py compares rows and queries
with the ORM's).
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql import InsertQuery

from .prepared import execute_prepared, fetch_all


@dataclass(frozen=True, slots=True)
class _Insert:
    sql: str
    converters: dict[int, tuple[list[Any], Any]]
    compiler: Any


@dataclass(frozen=True, slots=True)
class _Update:
    sql: str


# (model, database alias, column names, returning column names) -> statement; a few per model in practice.
_inserts: dict[tuple[Any, ...], _Insert | None] = {}
_updates: dict[tuple[Any, ...], _Update | None] = {}
_PLAIN_FIELDS: dict[models.Field, bool] = {}


def _plain(field: models.Field) -> bool:
    """A field whose value goes in as one `%s` (no placeholder of its own) and whose pre_save has no side effect
    that running it a second time would repeat (files are committed to storage there)."""
    plain = _PLAIN_FIELDS.get(field)
    if plain is None:
        plain = _PLAIN_FIELDS[field] = not hasattr(field, "get_placeholder") and not isinstance(field, models.FileField)
    return plain


# Values of these types are never expressions (most of what a save writes): no attribute lookup for them.
_VALUE_TYPES = frozenset({type(None), bool, int, str, float, dt.date, dt.datetime, Decimal, list, dict})


def _is_expression(value: Any) -> bool:
    return type(value) not in _VALUE_TYPES and hasattr(value, "resolve_expression")


def _is_expression_or_instance(value: Any) -> bool:
    # What an UPDATE leaves to Django: an expression, or a model instance assigned to a field.
    return type(value) not in _VALUE_TYPES and (
        hasattr(value, "resolve_expression") or hasattr(value, "prepare_database_save")
    )


def _same(these: list[Any], those: tuple[Any, ...]) -> bool:
    return len(these) == len(those) and all(map(operator.is_, these, those))


# The last statement each (model, database) inserted with, and its fields: a save usually inserts as the last did.
_last_inserts: dict[tuple[Any, str], tuple[tuple[Any, ...], tuple[Any, ...], _Insert | None]] = {}


def _insert_statement(
    model: type[models.Model], connection: BaseDatabaseWrapper, fields: list[Any], returning: list[Any]
) -> _Insert | None:
    last = _last_inserts.get((model, connection.alias))
    if last is not None and _same(fields, last[0]) and _same(returning, last[1]):
        return last[2]
    statement = _build_insert(model, connection, fields, returning)
    _last_inserts[model, connection.alias] = (tuple(fields), tuple(returning), statement)
    return statement


def _build_insert(
    model: type[models.Model], connection: BaseDatabaseWrapper, fields: list[Any], returning: list[Any]
) -> _Insert | None:
    key = (model, connection.alias, tuple(f.column for f in fields), tuple(f.column for f in returning))
    if key in _inserts:
        return _inserts[key]
    statement = None
    if (
        fields
        and all(_plain(field) for field in fields)
        and (not returning or connection.features.can_return_columns_from_insert)
    ):
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608 - names from the model
        converters: dict[int, tuple[list[Any], Any]] = {}
        compiler = None
        if returning:
            returning_sql, returning_params = connection.ops.return_insert_columns(returning)
            if returning_params:
                _inserts[key] = None
                return None
            sql = f"{sql} {returning_sql}"
            compiler = InsertQuery(model).get_compiler(connection=connection)
            converters = compiler.get_converters([field.get_col(model._meta.db_table) for field in returning])
        statement = _Insert(sql, converters, compiler)
    _inserts[key] = statement
    return statement


def _update_statement(model: type[models.Model], connection: BaseDatabaseWrapper, fields: list[Any]) -> _Update | None:
    key = (model, connection.alias, tuple(f.column for f in fields))
    if key in _updates:
        return _updates[key]
    statement = None
    if all(_plain(field) for field in fields):
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        pk = f"{table}.{quote(model._meta.pk.column)}"
        statement = _Update(f"UPDATE {table} SET {assignments} WHERE {pk} = %s")  # noqa: S608 - names from the model
    _updates[key] = statement
    return statement


class PreparedSaveMixin(models.Model):
    """Saves by statements built once per database and field list (see the module's docstring)."""

    class Meta:
        abstract = True

    def _do_insert(
        self,
        manager: models.Manager,
        using: str,
        fields: list[Any],
        returning_fields: list[Any],
        raw: bool,
    ) -> Any:
        model = manager.model  # (an INSERT has no WHERE: the base manager's filters, if any, do not apply)
        if raw:
            return super()._do_insert(manager, using, fields, returning_fields, raw)
        connection = connections[using]
        statement = _insert_statement(model, connection, fields, returning_fields or [])
        if statement is None:
            return super()._do_insert(manager, using, fields, returning_fields, raw)
        values = [field.pre_save(self, True) for field in fields]
        if any(_is_expression(value) for value in values):
            return super()._do_insert(manager, using, fields, returning_fields, raw)
        params = [
            field.get_db_prep_save(value, connection=connection) for field, value in zip(fields, values, strict=True)
        ]
        if not returning_fields:
            execute_prepared(connection, statement.sql, params)
            return []
        rows = fetch_all(connection, statement.sql, params)
        if statement.converters:
            rows = list(statement.compiler.apply_converters(rows, statement.converters))
        return [tuple(row) for row in rows]

    def _do_update(
        self,
        base_qs: models.QuerySet,
        using: str,
        pk_val: Any,
        values: list[tuple[Any, Any, Any]],
        update_fields: Any,
        forced_update: Any,
    ) -> bool:
        model = base_qs.model
        if (
            not values
            or base_qs.query.where
            or model._meta.select_on_save
            or any(_is_expression_or_instance(value) for _, _, value in values)
        ):
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        connection = connections[using]
        fields = [field for field, _, _ in values]
        statement = _update_statement(model, connection, fields)
        if statement is None:
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        params = [field.get_db_prep_save(value, connection=connection) for field, _, value in values]
        params.append(model._meta.pk.get_db_prep_value(pk_val, connection))
        return execute_prepared(connection, statement.sql, params) > 0
