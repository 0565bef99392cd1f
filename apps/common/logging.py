"""Logging filter that stamps each record with the current request id."""

import logging

from .context import get_request_id


class RequestIdFilter(logging.Filter):
    """Add `request_id` to every record ('-' outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = get_request_id() or "-"
        return True
