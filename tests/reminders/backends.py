"""E-mail backends for the reminder tests: a mail server that fails the first N sends, then works."""

from __future__ import annotations

import smtplib
import threading

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
