"""Choices of the demo data."""

from django.db import models


class DemoAuditAction(models.TextChoices):
    """The demo seeding's event on the audit trail (registered in DemoConfig.ready())."""

    DEMO_SEEDED = "demo_seeded", "Demo data seeded"


# What each demo login is for, printed by seed_demo and `manage.py demo_logins` (and so by `make run`).
# {name} and {unit} are the person's full name and org unit, read from the database.
PERSONAS: dict[str, str] = {
    "dana": "an employee ({name}, {unit}): her evidence and cases in the portal",
    "manager": "Dana's manager ({name}, head of {unit}): reviews her evidence, recommends her cases",
    "reviewer": "a CX reviewer ({name}, head of {unit}): reviews anyone's evidence but their own",
    "leader": "Leadership ({name}): the compliance dashboard and exports",
    "hr": "HR admin ({name}): policies, cycles, cases and exceptions in the admin",
    "hr2": "the second HR ({name}): grants or refuses the exceptions hr requested, and the other way round",
    "hr-admin": "superuser in the HR group: everything in the admin",
}
