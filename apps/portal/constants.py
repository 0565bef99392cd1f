"""Choices and sizes for the employee and reviewer pages."""

from django.db import models

# Every list page shows this many rows per page.
PAGE_SIZE = 25


class ReviewDecision(models.TextChoices):
    """What a reviewer can decide about a submitted item."""

    VERIFY = "verify", "Verify"
    REQUEST_CHANGES = "request_changes", "Request changes"
    REJECT = "reject", "Reject"
