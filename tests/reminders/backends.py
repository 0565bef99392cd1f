"""E-mail backends for the reminder tests: a mail server that fails the first N sends, one that refuses, one that
times out, and a file mailbox whose sender can hang until killed."""

from __future__ import annotations

import smtplib
import threading
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FlakyBackend(LocmemBackend):
    """Like locmem, but the first `failures` sends (set by the test) raise as a mail server going away would."""

    failures = 0
    attempts = 0
    _lock = threading.Lock()

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        with FlakyBackend._lock:
            FlakyBackend.attempts += 1
            if FlakyBackend.failures > 0:
                FlakyBackend.failures -= 1
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class RefusingBackend(LocmemBackend):
    """A mail server that answers every recipient with `code` (550: no such mailbox, a definite refusal; 450: try
    later)."""

    code = 550
    attempts = 0

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        RefusingBackend.attempts += 1
        recipients = {address: (RefusingBackend.code, b"Mailbox unavailable") for m in messages for address in m.to}
        raise smtplib.SMTPRecipientsRefused(recipients)


class TimeoutBackend(LocmemBackend):
    """A mail server that never answers in time."""

    attempts = 0

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        TimeoutBackend.attempts += 1
        raise TimeoutError("timed out")


class HangingFileBackend(FileBackend):
    """Django's file backend (a mailbox every process can read) that, in the process that sets `hang`, blocks for
    good: before writing ("before": the mail never left) or after ("after": the server took it, its answer never
    came back). It touches `<EMAIL_FILE_PATH>/entered` once it blocks, so a test knows when to kill the process."""

    hang: str | None = None

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        if HangingFileBackend.hang is None:
            return super().send_messages(messages)
        if HangingFileBackend.hang == "after":
            super().send_messages(messages)
        (Path(self.file_path) / "entered").touch()
        while True:  # until SIGKILL
            time.sleep(1)
