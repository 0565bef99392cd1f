"""How a send attempt ended, read from the mail backend's error: a definite refusal, or no definite answer.

Only an SMTP reply in the 5xx range (RFC 5321: permanent negative completion) is a refusal: the server answered,
and the message did not go out; sending it again as is would be refused again. Everything else (a 4xx reply, a
dropped connection, a timeout, a worker stopped by its time limit) leaves open whether the message went out, so it
is tried again and, once the attempts run out, ends "possibly sent", never "failed".
"""

from __future__ import annotations

import smtplib


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def is_definite_refusal(exc: BaseException) -> bool:
    """True when the mail server refused the e-mail for good (every recipient or the message itself, with a 5xx)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [answer[0] for answer in exc.recipients.values()]
        return bool(codes) and all(_permanent(code) for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):  # sender refused, data refused, authentication refused, ...
        return _permanent(exc.smtp_code)
    return False
