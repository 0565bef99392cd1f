"""Handing tasks to the broker after commit through Celery's own pool: JSON send tasks; a broker that is down costs
a request a bounded wait and no error, and leaves the work (rows, queued events) for the sweeper."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from apps.reminders import outbox
from apps.reminders.models import PendingEvidenceEvent
from apps.reminders.services import evidence_event_queue

from .conftest import celery_app_on

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: a broker that is down


def _queued(app) -> list:  # type: ignore[no-untyped-def,type-arg]
    """The messages waiting in the app's default queue (an in-memory broker), taken off it."""
    messages = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(app.conf.task_default_queue)
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            message.ack()
            messages.append(message)
        queue.close()
    return messages


def test_send_tasks_are_published_as_json_through_celerys_pool():
    with celery_app_on("memory://") as app:
        assert outbox.publish([41, 42]) == [41, 42]
        messages = _queued(app)

    assert [m.headers["task"] for m in messages] == ["reminders.send", "reminders.send"]
    assert [m.payload[0] for m in messages] == [[41], [42]]  # (args, kwargs, embed)
    assert {m.content_type for m in messages} == {"application/json"}
    assert not outbox.broker_marked_down()


def test_a_broker_that_is_down_costs_a_bounded_wait_then_requests_stop_trying_for_a_while(settings):
    with celery_app_on(DEAD_BROKER):
        started = time.monotonic()
        assert outbox.publish([1, 2]) == []
        assert time.monotonic() - started < settings.REMINDERS_PUBLISH_TIMEOUT + 1
        assert outbox.broker_marked_down()

    with celery_app_on("memory://") as app:
        assert outbox.publish([3]) == []  # not tried from requests until REMINDERS_BROKER_RETRY_AFTER has passed
        assert _queued(app) == []
        assert outbox.publish([4], force=True) == [4]  # the sweeper tries: the way back once the broker answers
        assert [m.payload[0] for m in _queued(app)] == [[4]]
    assert not outbox.broker_marked_down()  # requests publish again


@pytest.mark.django_db(transaction=True)
def test_a_drain_task_is_published_once_the_event_commits():
    with celery_app_on("memory://") as app:
        with transaction.atomic():
            evidence_event_queue(evidence_id=7, event="submitted")
            assert _queued(app) == []  # nothing before the commit
        assert [m.headers["task"] for m in _queued(app)] == ["reminders.drain_events"]
    assert list(PendingEvidenceEvent.objects.values_list("evidence_id", "event")) == [(7, "submitted")]


@pytest.mark.django_db(transaction=True)
def test_a_busy_process_publishes_one_delayed_drain_for_all_the_events_it_commits_meanwhile(settings, monkeypatch):
    settings.REMINDERS_DRAIN_DELAY = 30.0
    monkeypatch.setattr(outbox, "_drain_pending_until", 0.0)
    with celery_app_on("memory://") as app:
        for evidence_id in (7, 8, 9):
            with transaction.atomic():
                evidence_event_queue(evidence_id=evidence_id, event="submitted")
        messages = _queued(app)

    assert [m.headers["task"] for m in messages] == ["reminders.drain_events"]
    assert messages[0].headers["eta"] is not None  # runs after the delay: the three events are queued by then
    assert PendingEvidenceEvent.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_publishes_nothing_and_queues_nothing():
    with celery_app_on("memory://") as app:
        with pytest.raises(RuntimeError), transaction.atomic():
            evidence_event_queue(evidence_id=7, event="submitted")
            raise RuntimeError("the change failed")
        assert _queued(app) == []
    assert not PendingEvidenceEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_drain_the_broker_did_not_take_neither_raises_nor_loses_the_event():
    with celery_app_on(DEAD_BROKER), transaction.atomic():
        evidence_event_queue(evidence_id=8, event="submitted")

    assert outbox.broker_marked_down()
    assert PendingEvidenceEvent.objects.filter(evidence_id=8).exists()  # the sweeper's drain takes it
