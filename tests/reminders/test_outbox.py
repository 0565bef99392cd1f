"""Handing send tasks to the broker: one kept connection per process, replaced once when the broker dropped it."""

from __future__ import annotations

import pytest

from apps.reminders import outbox
from apps.reminders.tasks import send_reminder
from ritualcriteria.celery import app


@pytest.fixture
def sent(monkeypatch):
    """Record each send task published (reminder id, broker connection) instead of putting it on the queue."""
    published: list[tuple[int, object]] = []

    def apply_async(args, producer, retry):
        published.append((args[0], producer.connection))

    monkeypatch.setattr(send_reminder, "apply_async", apply_async)
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    outbox._discard_connection()
    yield published
    outbox._discard_connection()


@pytest.fixture
def opened(monkeypatch):
    """Count the broker connections opened."""
    count = [0]
    real = app.connection_for_write

    def connection_for_write(**options):
        count[0] += 1
        return real(**options)

    monkeypatch.setattr(app, "connection_for_write", connection_for_write)
    return count


def test_publishes_share_one_kept_connection(sent, opened):
    assert outbox.publish([1, 2]) == [1, 2]
    assert outbox.publish([3]) == [3]
    assert opened[0] == 1
    assert len({id(connection) for _, connection in sent}) == 1


def test_a_kept_connection_the_broker_dropped_is_replaced_once_and_the_broker_is_not_marked_down(
    sent, opened, monkeypatch
):
    assert outbox.publish([1]) == [1]
    dropped = sent[0][1]
    real = send_reminder.apply_async

    def fail_on_the_dropped_one(args, producer, retry):
        if producer.connection is dropped:
            raise ConnectionResetError("closed by the broker while idle (simulated)")
        real(args, producer, retry)

    monkeypatch.setattr(send_reminder, "apply_async", fail_on_the_dropped_one)

    assert outbox.publish([2, 3]) == [2, 3]
    assert opened[0] == 2
    assert not outbox.broker_marked_down()
    assert sent[-1][1] is not dropped


def test_a_broker_that_refuses_a_new_connection_is_marked_down(sent, monkeypatch):
    def refuse(args, producer, retry):
        raise ConnectionRefusedError("broker down (simulated)")

    monkeypatch.setattr(send_reminder, "apply_async", refuse)

    assert outbox.publish([1]) == []
    assert outbox.broker_marked_down()
    assert outbox.publish([2]) == []  # not tried again from requests until REMINDERS_BROKER_RETRY_AFTER
