"""Service faults: a database connection dropped mid-request answers a clean 503 and leaves nothing half-written;
a Celery worker killed mid-task gets its task redelivered and the effect happens once; the broker down at a
submission delays the notification, never the submission; a failing SMTP server is retried, then the reminder is
failed where HR sees it."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

import psycopg
import pytest
from celery import Celery
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.evidence import services as evidence_services
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.reminders import outbox
from apps.reminders.constants import ReminderKind, ReminderStatus
from apps.reminders.models import PendingEvidenceEvent, Reminder
from apps.reminders.services import reminders_drain_events, reminders_sweep
from apps.reminders.tasks import send_reminder
from ritualcriteria.celery import app as celery_app

from .conftest import PASSWORD, build_cast

DROPPED = "server closed the connection unexpectedly"
DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: a broker that is down


def fail_after_the_update(real, on_call):
    """Wrap audit_record: the evidence row is already updated in the transaction when the connection fails."""

    def wrapper(*args, **kwargs):
        on_call()
        return real(*args, **kwargs)

    return wrapper


def raise_dropped() -> None:
    raise OperationalError(DROPPED)


def snapshot(evidence: Evidence) -> tuple:
    evidence.refresh_from_db()
    return evidence.status, evidence.submitted_at, AuditEvent.objects.count()


def test_api_submit_with_the_database_gone_mid_request_is_a_json_503_and_nothing_is_saved(cast):
    api = cast.client("employee")
    before = snapshot(cast.draft)
    real = evidence_services.audit_record

    with mock.patch.object(evidence_services, "audit_record", fail_after_the_update(real, raise_dropped)):
        response = api.post(reverse("evidence_api:evidence-submit", args=[cast.draft.pk]))

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "nothing was saved" in response.json()["detail"]
    assert response["Retry-After"] == "5"
    assert response["X-Request-ID"]
    assert snapshot(cast.draft) == before
    assert cast.draft.status == EvidenceStatus.DRAFT


def test_portal_submit_with_the_database_gone_is_a_short_html_503(cast):
    page = cast.client("employee")
    before = snapshot(cast.draft)
    real = evidence_services.audit_record

    with mock.patch.object(evidence_services, "audit_record", fail_after_the_update(real, raise_dropped)):
        response = page.post(reverse("portal:evidence-submit", args=[cast.draft.pk]))

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"Service temporarily unavailable" in response.content
    assert DROPPED.encode() not in response.content  # no internals shown
    assert snapshot(cast.draft) == before


def test_a_database_outage_outside_the_view_is_a_503_too(cast):
    """The session is saved by a middleware after the view: its failure goes through handler500."""
    client = Client(raise_request_exception=False)

    with mock.patch.object(SessionStore, "save", side_effect=OperationalError(DROPPED)):
        response = client.post(reverse("portal:login"), {"username": "dana", "password": PASSWORD})

    assert response.status_code == 503
    assert b"Service temporarily unavailable" in response.content


def test_other_server_errors_stay_500_without_details(cast):
    client = Client(raise_request_exception=False)
    client.force_login(cast.users["employee"])

    with mock.patch.object(evidence_services, "audit_record", side_effect=RuntimeError("secret internals")):
        api = client.post(reverse("evidence_api:evidence-submit", args=[cast.draft.pk]))
        page = client.post(reverse("portal:evidence-submit", args=[cast.draft.pk]))

    assert (api.status_code, page.status_code) == (500, 500)
    assert "secret internals" not in api.content.decode() + page.content.decode()
    assert api["Content-Type"] == "application/json"


def terminate_own_backend() -> None:
    """From a second connection, kill the PostgreSQL backend that serves this request (pg_terminate_backend)."""
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(autocommit=True, **params) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_backend_terminated_mid_submit_is_a_503_and_the_row_is_untouched():
    cast = build_cast()
    api = cast.client("employee")
    before = snapshot(cast.draft)
    real = evidence_services.audit_record

    with mock.patch.object(evidence_services, "audit_record", fail_after_the_update(real, terminate_own_backend)):
        response = api.post(reverse("evidence_api:evidence-submit", args=[cast.draft.pk]))

    assert response.status_code == 503
    assert "nothing was saved" in response.json()["detail"]
    # The transaction died with its backend: the UPDATE made before the kill is gone, no audit event was added.
    assert snapshot(cast.draft) == before
    # The next request gets a fresh connection and works.
    ok = api.post(reverse("evidence_api:evidence-submit", args=[cast.draft.pk]))
    assert ok.status_code == 200
    assert ok.json()["status"] == EvidenceStatus.SUBMITTED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_backend_terminated_mid_portal_save_keeps_the_old_fields():
    cast = build_cast()
    page = cast.client("employee")
    title = cast.draft.title
    real = evidence_services.audit_record

    with mock.patch.object(evidence_services, "audit_record", fail_after_the_update(real, terminate_own_backend)):
        response = page.post(reverse("portal:evidence-submit", args=[cast.draft.pk]))

    assert response.status_code == 503
    cast.draft.refresh_from_db()
    assert (cast.draft.title, cast.draft.status) == (title, EvidenceStatus.DRAFT)


def _start_worker(queue: str, name: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "tests.security.worker_app",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            f"--queues={queue}",
            f"--hostname={name}@%h",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: kill -9 takes the pool child with it
    )


def _stop(worker: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


def _pids(table: str, key: str) -> list[int]:
    """The process ids recorded in a test table for a key, in insertion order (table names are our constants)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pid FROM {table} WHERE key = %s ORDER BY ctid", [key])  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def _wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL, as .ci/run does)")
def test_a_worker_killed_mid_task_gets_the_task_redelivered_and_the_effect_happens_once():
    from .worker_app import ATTEMPT_TABLE, EFFECT_TABLE, record_effect

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {EFFECT_TABLE} (key varchar(64) PRIMARY KEY, pid integer)")
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {ATTEMPT_TABLE} (id serial PRIMARY KEY, key varchar(64), pid int)")
    key = uuid.uuid4().hex
    queue = f"security-tests-{key}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ritualcriteria.settings.test",
        # The worker uses this test's database, and Redis gives an unacknowledged task back after 3 s.
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "RC_SECURITY_TEST_WORKER": "1",
    }
    first = _start_worker(queue, f"doomed-{key[:8]}", env)
    second = None
    try:
        record_effect.apply_async(args=[key, 300], queue=queue)
        assert _wait_for(lambda: len(_pids(EFFECT_TABLE, key)) == 1, 60)

        os.killpg(first.pid, signal.SIGKILL)  # main process and pool child, mid-task: no ack, no clean shutdown
        first.wait(timeout=10)
        second = _start_worker(queue, f"heir-{key[:8]}", env)

        redelivered = _wait_for(lambda: len(_pids(ATTEMPT_TABLE, key)) >= 2, 90)
        assert redelivered, "the task was not redelivered to the second worker"
        time.sleep(1)  # room for a (wrong) second effect to land
        effects, attempts = _pids(EFFECT_TABLE, key), _pids(ATTEMPT_TABLE, key)
        assert len(effects) == 1
        assert len(attempts) == 2 and attempts[0] != attempts[1]
        assert effects == attempts[:1]  # the effect is the killed run's, done once
    finally:
        _stop(first, signal.SIGKILL)
        if second is not None:
            _stop(second)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {EFFECT_TABLE}, {ATTEMPT_TABLE}")


# --------------------------------------------------------------------------- broker down, SMTP failing


class FailingSMTPBackend(BaseEmailBackend):
    """An SMTP server that drops every connection."""

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def submit_with_the_broker_down(cast, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Submit Dana's draft through the API while Redis is unreachable: saved, its notifications queued."""
    settings.REMINDERS_SEND_START_HOUR, settings.REMINDERS_SEND_END_HOUR = 0, 24
    api = Client(HTTP_AUTHORIZATION=f"Token {cast.token('employee')}")
    # Publishing goes through the current Celery app's pool: make it, in this thread, one whose broker is down.
    dead = Celery("dead-broker", set_as_current=False)
    dead.config_from_object("django.conf:settings", namespace="CELERY")
    dead.conf.broker_url = DEAD_BROKER
    dead.set_current()
    try:
        started = time.monotonic()
        response = api.post(reverse("evidence_api:evidence-submit", args=[cast.draft.pk]))
        elapsed = time.monotonic() - started
    finally:
        celery_app.set_current()
        dead.close()
    assert response.status_code == 200, response.content
    assert elapsed < settings.REMINDERS_PUBLISH_TIMEOUT + 2  # the broker's outage costs a bounded wait, no error
    cast.draft.refresh_from_db()
    assert cast.draft.status == EvidenceStatus.SUBMITTED
    assert [e.event for e in PendingEvidenceEvent.objects.filter(evidence_id=cast.draft.pk)] == ["submitted"]


def review_requests(cast) -> list[Reminder]:  # type: ignore[no-untyped-def]
    return list(Reminder.objects.filter(evidence=cast.draft, kind=ReminderKind.REVIEW_REQUESTED))


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_submit_saves_the_item_and_the_reviewers_hear_once_it_is_back(settings, monkeypatch):
    cast = build_cast()
    submit_with_the_broker_down(cast, settings, monkeypatch)
    assert review_requests(cast) == []  # the event waits in its queue; nobody has been told yet

    # The broker is back: the sweeper drains the queue and hands the rows over (recorded here instead of a real
    # queue), a worker sends.
    handed_over: list[int] = []
    monkeypatch.setattr(outbox, "publish", lambda ids, force=False: handed_over.extend(ids) or list(ids))
    swept = reminders_sweep()
    reminders = review_requests(cast)
    assert reminders, "no reviewer was to be told"
    assert swept.drained == 1 and sorted(handed_over) == sorted(r.pk for r in reminders)  # published by the drain
    for pk in handed_over:
        send_reminder.apply(args=[pk])

    assert {r.pk: Reminder.objects.get(pk=r.pk).status for r in reminders} == {
        r.pk: ReminderStatus.SENT for r in reminders
    }
    assert len(mail.outbox) == len(reminders)


@pytest.mark.django_db(transaction=True)
def test_smtp_dropping_the_connection_retries_then_marks_the_reminder_possibly_sent_for_hr(settings, monkeypatch):
    """A dropped connection is no answer: the mail may have gone out, so HR sees "possibly sent", not "failed"."""
    cast = build_cast()
    submit_with_the_broker_down(cast, settings, monkeypatch)
    reminders_drain_events()  # the worker writes the reviewers' notices (not handed over: the broker is down)
    (reminder, *_) = review_requests(cast)
    settings.EMAIL_BACKEND = f"{__name__}.FailingSMTPBackend"

    send_reminder.apply(args=[reminder.pk])  # a worker's run; retries run at once in apply()

    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.UNCERTAIN
    assert reminder.attempts == send_reminder.max_retries + 1
    assert "SMTPServerDisconnected" in reminder.last_error
    assert mail.outbox == []
    page = cast.client("superuser").get(reverse("admin:reminders_reminder_changelist"), {"status": "uncertain"})
    assert page.status_code == 200
    assert reminder.to_email.encode() in page.content
