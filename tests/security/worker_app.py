"""The Celery app plus one test-only task, for the worker-killed test (`celery -A tests.security.worker_app worker`).

The task's effect is a row with a unique key, written and committed before the task's long tail: a worker killed
during the tail has done the effect but not acknowledged the message, so the broker hands the task to another
worker, whose run finds the key taken and does nothing twice.
"""

from __future__ import annotations

import os
import time

from django.db import connection, transaction

from ritualcriteria.celery import app

EFFECT_TABLE = "security_test_task_effect"
ATTEMPT_TABLE = "security_test_task_attempt"

__all__ = ["app", "record_effect"]

if os.environ.get("RC_SECURITY_TEST_WORKER") == "1":
    # Only in the test's worker processes: look for unacknowledged messages past the visibility timeout every
    # second instead of every 100 s (kombu's default interval x throttle), so the test waits seconds, not minutes.
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }


@app.task(name="security_tests.record_effect", bind=True, acks_late=True, reject_on_worker_lost=True)
def record_effect(self, key: str, hold_seconds: float) -> bool:  # type: ignore[no-untyped-def]
    """Record one attempt, do the effect once per key, then take `hold_seconds` (the window for the kill)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {ATTEMPT_TABLE} (key, pid) VALUES (%s, %s)", [key, os.getpid()])  # noqa: S608
        with transaction.atomic():
            cursor.execute(
                f"INSERT INTO {EFFECT_TABLE} (key, pid) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",  # noqa: S608
                [key, os.getpid()],
            )
            did_effect = cursor.rowcount == 1
    if did_effect:
        time.sleep(hold_seconds)
    return did_effect
