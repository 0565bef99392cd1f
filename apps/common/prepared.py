"""Querysets with one parameter, compiled once per database and run again with each new value.

Compiling an ORM query (joins, columns, converters) costs more CPU than running it when it is small and runs on
every request: the token lookup, an item reloaded after a write. A `PreparedQuery` takes the ORM's own SQL, row
layout and converters from its compiler once, then runs that SQL with each value and builds the results as the
ORM's iterators do: model instances (with their `select_related` objects), `values()` dicts or `values_list()`
tuples.

On PostgreSQL the statement is also prepared on the server, once per connection (psycopg's `prepare=True`): the
planner's work for a query with joins costs ten times more than running it (0.85 ms against 0.08 ms for an
evidence row on the reference machine), and a prepared statement skips it on every later run. Django's own
statements keep client-side binding. `DB_PREPARED_STATEMENTS=0` turns server-side preparing off (for a connection
pooler that cannot keep prepared statements: PgBouncer before 1.21 in transaction mode).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.query import (
    ModelIterable,
    RelatedPopulator,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.signals import post_init, pre_init


def fetch_all(connection: BaseDatabaseWrapper, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run `sql` and return its rows; on PostgreSQL as a statement prepared on the server (once per connection).

    Django's debug log, query counts and execute wrappers see the statement like any other.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    return _run_prepared(connection, sql, params, fetch=True)[0]


def execute_prepared(connection: BaseDatabaseWrapper, sql: str, params: list[Any]) -> int:
    """Run `sql`, which returns no rows (an UPDATE, an INSERT without RETURNING), as `fetch_all` runs its
    statement; return the number of rows it affected."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount
    return _run_prepared(connection, sql, params, fetch=False)[1]


def _server_cursor(connection: BaseDatabaseWrapper) -> psycopg.Cursor:
    """The connection's open psycopg cursor that binds on the server, kept for the life of the database connection.

    What Django's `connection.cursor()` does first (the health check, connecting, the thread check) is done here
    too; the cursor itself is reused: creating one (and Django's own around it) cost more than the prepared
    statement's run.
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    kept: tuple[Any, psycopg.Cursor] | None = connection.__dict__.get("_rc_server_cursor")
    if kept is None or kept[0] is not raw or kept[1].closed:
        with connection.wrap_database_errors:
            kept = connection._rc_server_cursor = (raw, psycopg.Cursor(raw))  # type: ignore[attr-defined]
    return kept[1]


def _run_prepared(
    connection: BaseDatabaseWrapper, sql: str, params: list[Any], *, fetch: bool
) -> tuple[list[tuple[Any, ...]], int]:
    server = _server_cursor(connection)
    rows: list[tuple[Any, ...]] = []
    affected = 0

    def execute(sql: str, params: list[Any], many: bool, context: dict[str, Any]) -> None:
        # Django's cursors bind on the client; psycopg's plain cursor on the same connection binds on the server,
        # which prepared statements need. prepare=True prepares at the first run (with prepare_threshold set).
        nonlocal affected
        with connection.wrap_database_errors:
            server.execute(sql, params, prepare=True)
            affected = server.rowcount
            if fetch:
                rows.extend(server.fetchall())

    if connection.queries_logged:
        wrapper: CursorWrapper = CursorDebugWrapper(server, connection)
        with wrapper.debug_sql(sql, params):
            wrapper._execute_with_wrappers(sql, params, False, execute)
    else:
        CursorWrapper(server, connection)._execute_with_wrappers(sql, params, False, execute)
    return rows, affected


_PLAIN_MODELS: dict[type[Model], bool] = {}


def _built_plainly(model: type[Model]) -> bool:
    # Django builds such a model's instance from a row by setting each loaded field's value, nothing else.
    plain = _PLAIN_MODELS.get(model)
    if plain is None:
        plain = _PLAIN_MODELS[model] = (
            model.__init__ is Model.__init__
            and model.__new__ is Model.__new__
            and getattr(model.from_db, "__func__", None) is Model.from_db.__func__
        )
    return plain and not pre_init.has_listeners(model) and not post_init.has_listeners(model)


def instance_from_db(model: type[Model], db: str, attnames: list[str], values: Any) -> Model:
    """What `model.from_db(db, attnames, values)` gives, built without Model.__init__ where that changes nothing.

    __init__ sends pre_init and post_init, then sets each value through the class attribute of its field, which for
    a freshly loaded instance stores it in the instance's __dict__: for a model without an __init__ or from_db of
    its own and without receivers of those signals, the values go straight there (deferred fields are left out,
    as __init__ leaves them). It cost a third of a prepared query's Python (tests/common/test_prepared.py).
    """
    if not _built_plainly(model):
        return model.from_db(db, attnames, values)
    obj = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = db
    loaded = obj.__dict__
    loaded["_state"] = state
    loaded.update(zip(attnames, values, strict=True))
    return obj


def _populate(populator: RelatedPopulator, row: tuple[Any, ...], from_obj: Model) -> None:
    # RelatedPopulator.populate, building the related object with instance_from_db.
    if populator.reorder_for_init:
        data = populator.reorder_for_init(row)
    else:
        data = row[populator.cols_start : populator.cols_end]
    if data[populator.pk_idx] is None:
        obj = None
    else:
        obj = instance_from_db(populator.model_cls, populator.db, populator.init_list, data)
        for nested in populator.related_populators:
            _populate(nested, row, obj)
    populator.local_setter(from_obj, obj)
    if obj is not None:
        populator.remote_setter(obj, from_obj)


class PreparedQuery:
    """`queryset`, built with `sentinel` as one of its parameters, ready to run with other values in its place.

    The sentinel must be a value no other parameter of the query has (the constructor checks).
    """

    def __init__(self, queryset: QuerySet, sentinel: Any) -> None:
        self.using = queryset.db
        query = queryset.query
        compiler = query.get_compiler(self.using)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        if self.params.count(sentinel) != 1:
            raise ValueError(f"{queryset.model.__name__}: {sentinel!r} is not once among the parameters {params!r}")
        self.position = self.params.index(sentinel)
        self.compiler = compiler
        self.converters = compiler.get_converters([column[0] for column in compiler.select])
        self.tuples = queryset._iterable_class is ValuesListIterable
        if queryset._iterable_class is ValuesIterable:
            columns = query.selected or (*query.extra_select, *query.values_select, *query.annotation_select)
            self.names: list[str] | None = list(columns)
        elif self.tuples:
            self.names = None
        elif queryset._iterable_class is ModelIterable:
            self.names = None
            klass_info, select = compiler.klass_info, compiler.select
            fields = klass_info["select_fields"]
            self.model = klass_info["model"]
            self.start, self.end = fields[0], fields[-1] + 1
            self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
            self.populators = get_related_populators(klass_info, select, self.using)
            self.annotations = dict(compiler.annotation_col_map or {})
        else:
            raise ValueError("only model, values() and values_list() querysets can be prepared")

    def all(self, value: Any) -> list[Any]:
        """Run the query with `value` for the parameter."""
        params = self.params.copy()
        params[self.position] = value
        rows = fetch_all(connections[self.using], self.sql, params)
        if self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        if self.tuples:
            return [tuple(row) for row in rows]
        if self.names is not None:
            return [dict(zip(self.names, row, strict=True)) for row in rows]
        objects = []
        for row in rows:
            obj = instance_from_db(self.model, self.using, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                _populate(populator, row, obj)
            for name, position in self.annotations.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects

    def first(self, value: Any) -> Any | None:
        found = self.all(value)
        return found[0] if found else None


class Prepared:
    """A query of `model` prepared per database alias on first use: `build(sentinel)` gives its queryset."""

    def __init__(self, model: type[Model], build: Callable[[Any], QuerySet], sentinel: Any) -> None:
        self.model = model
        self.build = build
        self.sentinel = sentinel
        self._by_alias: dict[str, PreparedQuery] = {}

    def query(self) -> PreparedQuery:
        using = router.db_for_read(self.model)
        prepared = self._by_alias.get(using)
        if prepared is None:
            prepared = self._by_alias[using] = PreparedQuery(self.build(self.sentinel).using(using), self.sentinel)
        return prepared
