"""/healthz answers within 2 s, naming what hangs, when a dependency accepts connections and never answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from apps.common import health


@pytest.fixture
def hanging_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung Redis or PostgreSQL)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    listener.close()


@pytest.fixture
def warm(client):
    """One answered request first: a cold process spends its first request importing every view (the URL map)."""
    client.get("/healthz")
    _wait_for_probes_to_end()


def _wait_for_probes_to_end(timeout: float = 5.0) -> None:
    """Let the abandoned check threads finish, so the next test starts with none in flight."""
    deadline = time.monotonic() + timeout
    while health._in_flight and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.django_db
def test_healthz_answers_503_within_2_seconds_naming_the_broker_when_redis_hangs(
    client, settings, hanging_server, warm
):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{hanging_server}/12"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 30, "socket_timeout": 30}

    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["database"]["ok"] is True
    _wait_for_probes_to_end()


@pytest.mark.django_db
def test_healthz_answers_503_within_2_seconds_naming_the_database_when_it_hangs(
    client, monkeypatch, hanging_server, warm
):
    def hung_database() -> tuple[bool, str]:
        with socket.create_connection(("127.0.0.1", hanging_server), timeout=3) as conn:
            conn.recv(1)  # a server that accepted and never answers the start-up message
        return True, "answered"

    monkeypatch.setattr(health, "check_database", hung_database)

    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database"]
    assert "no answer within 1 s" in body["database"]["detail"]
    assert body["audit"] is None  # not asked of a database that did not answer
    _wait_for_probes_to_end()


@pytest.mark.django_db
def test_healthz_is_not_held_up_by_a_hanging_cache(client, settings, hanging_server, warm):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{hanging_server}/12",
        }
    }

    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert response.json()["worker_heartbeat_age_seconds"] is None
    _wait_for_probes_to_end()


def test_a_check_still_hanging_is_not_started_again_by_the_next_request():
    release = threading.Event()
    calls: list[int] = []

    def hangs() -> tuple[bool, str]:
        calls.append(1)
        release.wait(5)
        return True, "late"

    first = health.run_within({"probe": hangs}, budget=0.2)
    second = health.run_within({"probe": hangs}, budget=0.2)
    release.set()
    _wait_for_probes_to_end()
    third = health.run_within({"probe": lambda: (True, "fine")}, budget=1)

    assert isinstance(first["probe"], TimeoutError) and isinstance(second["probe"], TimeoutError)
    assert "waiting for" in str(second["probe"])
    assert calls == [1]
    assert third["probe"] == (True, "fine")
