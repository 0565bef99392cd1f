"""/healthz tells operators whether the database and the broker answer."""

import pytest


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


@pytest.mark.django_db
def test_healthz_shows_how_many_audit_events_wait_for_the_sealer_and_for_how_long(client):
    from apps.audit.constants import AuditAction
    from apps.audit.sealer import audit_seal_pending
    from apps.audit.services import audit_record

    audit_record(action=AuditAction.EXPORT_MADE, object_repr="waiting")
    waiting = client.get("/healthz").json()["audit"]
    audit_seal_pending()
    sealed = client.get("/healthz").json()["audit"]

    assert waiting["unsealed"] >= 1 and waiting["oldest_unsealed_age_seconds"] >= 0
    assert sealed["unsealed"] == 0 and sealed["oldest_unsealed_age_seconds"] is None


@pytest.mark.django_db
def test_healthz_names_the_broker_when_it_is_unreachable(client, settings):
    # Nothing listens on port 1: the connection is refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1}

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_names_the_database_when_it_fails(client, monkeypatch):
    from apps.common import health

    monkeypatch.setattr(health, "check_database", lambda: (False, "OperationalError: connection refused"))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abcdef123456"})
    assert response["X-Request-ID"] == "abcdef123456"

    hostile = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert hostile["X-Request-ID"] != "bad id\nwith newline"
    assert len(hostile["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_a_broker_that_answered_is_not_asked_again_for_a_few_seconds(client, monkeypatch):
    from apps.common import health

    calls = []

    def connect():
        calls.append(1)
        return True, "redis"

    monkeypatch.setattr(health, "_broker_ok", {})
    monkeypatch.setattr(health, "connect_to_broker", connect)
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert len(calls) == 1

    for key, (checked_at, detail) in list(health._broker_ok.items()):  # the answer grows old
        health._broker_ok[key] = (checked_at - health.BROKER_OK_REUSE_SECONDS - 1, detail)
    assert client.get("/healthz").status_code == 200
    assert len(calls) == 2


@pytest.mark.django_db
def test_a_broker_failure_is_never_remembered(client, monkeypatch):
    from apps.common import health

    answers = iter([(False, "ConnectionError: refused"), (True, "redis"), (True, "redis")])
    monkeypatch.setattr(health, "_broker_ok", {})
    monkeypatch.setattr(health, "connect_to_broker", lambda: next(answers))
    assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz").status_code == 200
