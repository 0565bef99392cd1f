"""Production settings that fit the workload: PostgreSQL's JIT off for the product's connections, gunicorn workers
replaced after a number of requests (with jitter) so a big request's memory does not stay with them."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.db import connection

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_products_postgresql_connections_run_without_jit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        (jit,) = cursor.fetchone()

    assert jit == "off"


def test_gunicorn_replaces_each_worker_after_a_thousand_requests_give_or_take_a_hundred(monkeypatch):
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS", raising=False)
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS_JITTER", raising=False)

    conf = runpy.run_path(str(GUNICORN_CONF))

    assert (conf["max_requests"], conf["max_requests_jitter"]) == (1000, 100)


def test_gunicorns_worker_recycling_is_set_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "500")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS_JITTER", "50")

    conf = runpy.run_path(str(GUNICORN_CONF))

    assert (conf["max_requests"], conf["max_requests_jitter"]) == (500, 50)
