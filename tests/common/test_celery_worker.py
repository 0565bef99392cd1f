"""A real task goes through the configured broker (Redis in CI) to a real worker and has its effect."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from apps.common.health import HEARTBEAT_CACHE_KEY, worker_heartbeat_age
from apps.common.tasks import heartbeat, ping
from ritualcriteria.celery import app


@pytest.fixture
def celery_worker_thread(transactional_db):
    """Start an in-process worker consuming from the real broker (no eager mode)."""
    assert app.conf.task_always_eager is False
    app.control.purge()  # tasks earlier tests published (audit seals, drains) must not run during this one
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING") as worker:
        yield worker


@pytest.mark.celery_worker
def test_task_round_trip_through_the_broker_to_a_real_worker(celery_worker_thread):
    result = ping.delay("hello from the test")

    assert result.get(timeout=20) == "hello from the test"


@pytest.mark.celery_worker
def test_heartbeat_task_run_by_a_worker_is_visible_to_healthz(celery_worker_thread):
    cache.delete(HEARTBEAT_CACHE_KEY)

    heartbeat.delay()

    deadline = time.monotonic() + 20
    while worker_heartbeat_age() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    age = worker_heartbeat_age()
    assert age is not None and age < 20


def test_celery_never_runs_eagerly_outside_unit_tests():
    assert app.conf.task_always_eager is False
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
