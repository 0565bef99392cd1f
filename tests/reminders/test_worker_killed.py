"""A worker process holding a claimed reminder is SIGKILLed: the sweeper takes the row back and a real worker on Redis
sends it within the retry window; the mailbox (files every process writes) shows at most one extra copy, with the
same Message-ID. Killed before the mail left: one copy. Killed after the server took it: two identical copies."""

from __future__ import annotations

import email
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
from django.db import connections

from apps.reminders.constants import ReminderStatus
from apps.reminders.messages import message_id_for
from apps.reminders.models import Reminder
from apps.reminders.services import reminder_send, reminders_sweep

from .backends import HangingFileBackend
from .test_exactly_once import one_reminder, short_cases, wait_for, worker  # noqa: F401 - fixtures used below

pytestmark = [
    pytest.mark.celery_worker,
    # The killed sender is another process: it needs a database it can reach (not SQLite's in-memory test database).
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL, as .ci/run does)"),
]

SEPARATOR = "\n" + "-" * 79 + "\n"  # what Django's file backend writes after each message


def _send_and_hang(reminder_id: int, hang: str) -> None:
    """The doomed worker: claims the row and sends, its mail backend blocking for good (the test kills it)."""
    HangingFileBackend.hang = hang
    reminder_send(reminder_id=reminder_id)


def mailbox(folder: Path) -> list[email.message.Message]:
    """Every message the file backend wrote, from every process."""
    found = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_text().split(SEPARATOR):
            if chunk.strip():
                found.append(email.message_from_string(chunk))
    return found


@pytest.mark.parametrize(("hang", "copies"), [("before", 1), ("after", 2)], ids=["mail-not-left", "mail-left"])
def test_a_reminder_whose_worker_was_killed_mid_send_is_delivered_again_with_the_same_message_id(
    worker,  # noqa: F811 - the real worker on Redis that sends the second attempt
    short_cases,  # noqa: F811
    settings,
    tmp_path,
    hang,
    copies,
):
    folder = tmp_path / "mail"
    folder.mkdir()
    settings.EMAIL_BACKEND = "tests.reminders.backends.HangingFileBackend"
    settings.EMAIL_FILE_PATH = str(folder)
    settings.REMINDERS_SENDING_TIMEOUT = 2  # the claim's lease; 60 s by default
    reminder = one_reminder(short_cases)

    connections.close_all()  # the child opens its own connection
    doomed = multiprocessing.get_context("fork").Process(target=_send_and_hang, args=(reminder.pk, hang), daemon=True)
    doomed.start()
    wait_for(lambda: (folder / "entered").exists(), timeout=20)
    assert Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENDING
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(5)
    assert doomed.exitcode == -signal.SIGKILL
    killed_at = time.monotonic()

    # Beat's sweeper, every half second here (REMINDERS_SWEEP_EVERY, 30 s by default).
    def swept_and_sent() -> bool:
        if Reminder.objects.get(pk=reminder.pk).status == ReminderStatus.SENT:
            return True
        reminders_sweep()
        time.sleep(0.5)
        return False

    wait_for(swept_and_sent, timeout=20)
    waited = time.monotonic() - killed_at
    assert waited < settings.REMINDERS_SENDING_TIMEOUT + 5  # the lease, a sweep and a delivery

    time.sleep(1)  # anything else the worker might still send
    reminder.refresh_from_db()
    messages = mailbox(folder)
    assert len(messages) == copies  # at most one extra copy
    assert {m["Message-ID"] for m in messages} == {message_id_for(reminder.key)}
    assert {m["X-Reminder-Key"] for m in messages} == {reminder.key}
    assert reminder.attempts == 2 and "may have gone out" in reminder.last_error
