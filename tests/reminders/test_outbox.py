"""Handing send tasks to the broker: one kept connection per process, replaced once when the broker dropped it;
the message Celery would write, for less CPU."""

from __future__ import annotations

import os

import pytest
from kombu import Connection, Producer

from apps.reminders import outbox
from apps.reminders.broker import KeptClientChannel, Transport, transport_for
from apps.reminders.tasks import send_reminder
from ritualcriteria.celery import app


@pytest.fixture
def sent(monkeypatch):
    """Record each send task published (reminder id, broker connection) instead of putting it on the queue."""
    published: list[tuple[int, object]] = []

    def apply_async(args, producer, retry, **options):
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

    def fail_on_the_dropped_one(args, producer, retry, **options):
        if producer.connection is dropped:
            raise ConnectionResetError("closed by the broker while idle (simulated)")
        real(args, producer, retry, **options)

    monkeypatch.setattr(send_reminder, "apply_async", fail_on_the_dropped_one)

    assert outbox.publish([2, 3]) == [2, 3]
    assert opened[0] == 2
    assert not outbox.broker_marked_down()
    assert sent[-1][1] is not dropped


def test_a_broker_that_refuses_a_new_connection_is_marked_down(sent, monkeypatch):
    def refuse(args, producer, retry, **options):
        raise ConnectionRefusedError("broker down (simulated)")

    monkeypatch.setattr(send_reminder, "apply_async", refuse)

    assert outbox.publish([1]) == []
    assert outbox.broker_marked_down()
    assert outbox.publish([2]) == []  # not tried again from requests until REMINDERS_BROKER_RETRY_AFTER


@pytest.fixture
def written(monkeypatch):
    """The messages producers hand to the transport (body, headers, properties, routing), on an in-memory broker."""
    messages: list[dict] = []

    def _publish(self, body, priority, content_type, content_encoding, headers, properties, routing_key, *a, **kw):
        messages.append({"body": body, "headers": dict(headers), "properties": properties, "routing_key": routing_key})

    monkeypatch.setattr(Producer, "_publish", _publish)
    with Connection("memory://") as connection:
        yield Producer(connection), messages


def test_a_send_task_is_the_message_celery_writes_for_apply_async(written):
    producer, messages = written

    outbox.send_task(producer, 4242, declare=True)
    send_reminder.apply_async((4242,), producer=producer, retry=False)

    ours, celerys = messages
    for message in (ours, celerys):
        for name in ("id", "root_id"):  # a new task id each time
            message["headers"].pop(name)
        message["properties"].pop("correlation_id")
    assert ours["headers"]["argsrepr"] == "(4242,)" and ours["headers"]["kwargsrepr"] == "{}"
    # Celery copies texts given to apply_async into the properties too (the worker reads them from the headers).
    assert ours["properties"].pop("argsrepr") == "(4242,)" and ours["properties"].pop("kwargsrepr") == "{}"
    assert ours == celerys


def test_the_queue_is_declared_on_a_connections_first_publish_only(monkeypatch):
    declared: list[object] = []

    def _publish(self, body, priority, content_type, content_encoding, headers, properties, routing_key, mandatory,
                 immediate, exchange, declare, *args, **kwargs):  # fmt: skip
        declared.extend(declare)  # what kombu would declare before publishing; nothing reaches the queue

    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    monkeypatch.setattr(Producer, "_publish", _publish)
    outbox._discard_connection()

    assert outbox.publish([1, 2]) == [1, 2]
    assert outbox.publish([3]) == [3]
    assert [queue.name for queue in declared] == ["celery"]
    outbox._discard_connection()
    assert outbox.publish([4]) == [4]
    assert [queue.name for queue in declared] == ["celery", "celery"]  # a new connection declares again
    outbox._discard_connection()


def test_redis_is_published_to_with_the_kept_client_transport_and_other_brokers_with_kombus():
    assert transport_for("redis://127.0.0.1:6379/0") is Transport
    assert transport_for("rediss://cache.example.com:6380/0") is Transport
    assert transport_for("filesystem://") is None
    assert transport_for("amqp://guest@localhost//") is None


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL, as .ci/run does)")
def test_a_redis_channel_keeps_one_client_until_its_pool_is_replaced():
    with Connection(os.environ["REDIS_URL"], transport=Transport) as connection:
        channel = connection.default_channel
        assert isinstance(channel, KeptClientChannel)
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.ping()
        given = object()
        with channel.conn_or_acquire(given) as client:
            assert client is given
        channel._pool = None  # as kombu does when it drops its connections
        with channel.conn_or_acquire() as third:
            assert third is not first
            assert third.connection_pool is channel.pool
            assert third.ping()


# ------------------------------------------------------------------------------------------------ the doorbell


class FakeRedis:
    """The doorbell's key on a stand-in for Redis: SET NX answers whether it set the key."""

    def __init__(self, fail: bool = False) -> None:
        self.doorbell = False
        self.asked = 0
        self.fail = fail

    def set(self, key, value, nx, ex):  # type: ignore[no-untyped-def]
        if self.fail:
            raise ConnectionError("Redis is down")
        self.asked += 1
        if self.doorbell:
            return None
        self.doorbell = True
        return True

    def delete(self, key):  # type: ignore[no-untyped-def]
        self.doorbell = False


@pytest.fixture
def doorbell(monkeypatch, settings):
    """A stand-in Redis behind the kept connection, a clock to move, and the drain tasks published."""
    redis, clock, published = FakeRedis(), [1000.0], []
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    monkeypatch.setattr(outbox, "_doorbell_seen_at", float("-inf"))
    monkeypatch.setattr(outbox, "_connection", lambda: (object(), False))
    monkeypatch.setattr(outbox, "_redis_client", lambda conn: redis)
    monkeypatch.setattr(outbox.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(outbox, "_apply_async", lambda task, args, producer, **options: published.append(options))
    settings.REMINDERS_DOORBELL_QUIET = 1
    return redis, clock, published


def test_a_busy_process_asks_redis_about_the_doorbell_once_a_quiet_period(doorbell):
    redis, clock, published = doorbell
    outbox.ring()  # sets the doorbell: the drain task is published
    assert (redis.asked, len(published)) == (1, 1)
    for _ in range(50):  # the same second: the doorbell is known to be set, nobody is asked
        clock[0] += 0.01
        outbox.ring()
    assert (redis.asked, len(published)) == (1, 1)
    clock[0] += 0.6  # past the quiet period: asked again, still set (the drain has not answered)
    outbox.ring()
    assert (redis.asked, len(published)) == (2, 1)
    redis.delete(outbox.DOORBELL_KEY)  # the drain answered
    clock[0] += 1.0
    outbox.ring()
    assert (redis.asked, len(published)) == (3, 2)


def test_with_no_quiet_period_every_ring_asks(doorbell, settings):
    redis, clock, published = doorbell
    settings.REMINDERS_DOORBELL_QUIET = 0
    for _ in range(3):
        outbox.ring()
    assert (redis.asked, len(published)) == (3, 1)


def test_a_ring_that_failed_is_not_taken_for_a_doorbell_seen(doorbell, monkeypatch):
    redis, clock, published = doorbell
    redis.fail = True
    monkeypatch.setattr(outbox, "_connection", lambda: (object(), True))  # a new connection: no second try
    monkeypatch.setattr(outbox, "_discard_connection", lambda: None)
    outbox.ring()
    assert outbox.broker_marked_down() and outbox._doorbell_seen_at == float("-inf")
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)  # the broker is back
    redis.fail = False
    outbox.ring()  # asks at once: nothing was seen
    assert (redis.asked, len(published)) == (1, 1)


def test_the_rung_drain_clears_the_doorbell_drains_and_asks_for_one_more_drain_after_the_quiet_period(
    doorbell, monkeypatch, settings
):
    from apps.reminders import tasks

    redis, clock, published = doorbell
    settings.REMINDERS_DOORBELL_QUIET = 3
    redis.doorbell = True
    drained = []
    monkeypatch.setattr(tasks, "reminders_drain_events", lambda: drained.append("drain") or 4)
    assert tasks.drain_events() == 4
    assert redis.doorbell is False and drained == ["drain"]
    assert published == [{"declare": False, "kwargs": {"again": True}, "countdown": 3}]

    redis.doorbell = True  # a new doorbell, rung meanwhile: the follow-up leaves it to its own drain
    assert tasks.drain_events(again=True) == 4
    assert redis.doorbell is True and drained == ["drain", "drain"] and len(published) == 1


def test_without_a_doorbell_no_follow_up_drain_is_asked_for(doorbell, monkeypatch):
    from apps.reminders import tasks

    redis, clock, published = doorbell
    monkeypatch.setattr(outbox, "_redis_client", lambda conn: None)  # another broker: every ring publishes
    monkeypatch.setattr(tasks, "reminders_drain_events", lambda: 2)
    assert tasks.drain_events() == 2
    assert published == []
