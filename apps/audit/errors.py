"""Errors raised by the audit trail."""


class UnauditedBulkWrite(Exception):
    """A bulk write that would change audited rows without writing their audit events."""


class AppendOnlyViolation(Exception):
    """An attempt to change or remove an audit event, which the trail never allows."""
