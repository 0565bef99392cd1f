"""The per-request health check of a kept PostgreSQL connection: no round trip while the server has said nothing,
a fresh connection when the server ended the old one, Django's full check whenever the socket has something."""

from __future__ import annotations

import time
from unittest import mock

import psycopg
import pytest
from django.db import close_old_connections, connection
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoPostgres

from apps.common.connection_check import socket_is_quiet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _other_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    for name in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(name, None)
    return psycopg.connect(autocommit=True, **params)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _as_at_the_start_of_a_request() -> None:
    # What Django's request_started signal does with CONN_HEALTH_CHECKS on (as the settings turn it on with
    # DATABASE_URL; the next connect() sets it from the settings again): check before the first query.
    connection.health_check_enabled = True
    close_old_connections()
    assert connection.health_check_done is False


def test_a_quiet_kept_connection_is_used_without_asking_the_server():
    pid = _backend_pid()
    _as_at_the_start_of_a_request()

    with mock.patch.object(DjangoPostgres, "is_usable", side_effect=AssertionError("asked the server")):
        connection.close_if_health_check_failed()

    assert connection.health_check_done is True
    assert _backend_pid() == pid


def test_a_connection_the_server_ended_between_requests_is_replaced_before_the_next_query():
    pid = _backend_pid()
    with _other_connection() as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while killer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.05)
    _as_at_the_start_of_a_request()

    assert socket_is_quiet(connection.connection) is False
    connection.close_if_health_check_failed()

    assert _backend_pid() != pid  # a new connection, and the query works


def test_anything_waiting_on_the_socket_makes_the_check_ask_the_server():
    with connection.cursor() as cursor:
        cursor.execute("LISTEN rc_connection_check")
    pid = _backend_pid()
    with _other_connection() as other:
        other.execute("NOTIFY rc_connection_check")
    deadline = time.monotonic() + 10
    while socket_is_quiet(connection.connection):
        assert time.monotonic() < deadline, "the notification did not arrive"
        time.sleep(0.05)
    _as_at_the_start_of_a_request()

    with mock.patch.object(DjangoPostgres, "is_usable", autospec=True, side_effect=DjangoPostgres.is_usable) as full:
        connection.close_if_health_check_failed()

    assert full.call_count == 1  # SELECT 1 answered: the connection is kept
    assert _backend_pid() == pid
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN rc_connection_check")


def test_a_connection_in_a_transaction_or_closed_is_never_taken_as_quiet():
    connection.ensure_connection()
    raw = connection.connection
    with raw.transaction():
        raw.execute("SELECT 1")
        assert socket_is_quiet(raw) is False
    assert socket_is_quiet(raw) is True
    assert socket_is_quiet(None) is False
    connection.close()
    assert socket_is_quiet(raw) is False
