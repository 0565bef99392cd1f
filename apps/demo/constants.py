"""Choices of the demo data."""

from django.db import models


class DemoAuditAction(models.TextChoices):
    """The demo seeding's event on the audit trail (registered in DemoConfig.ready())."""

    DEMO_SEEDED = "demo_seeded", "Demo data seeded"
