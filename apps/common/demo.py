"""Entry point of the demo data: calls each app's seeder in dependency order."""

from __future__ import annotations

import random

from apps.common.credentials import new_password, remember_credentials
from apps.common.roles import Role, ensure_role_groups
from apps.org.demo import seed_org


def seed_all(*, employees: int, rng: random.Random) -> list[str]:
    """Create the whole demo company and return summary lines to print."""
    from django.contrib.auth import get_user_model

    groups = ensure_role_groups()
    org = seed_org(employees=employees, rng=rng)

    # Logins for a few personas, so every role can be tried at once.
    user_model = get_user_model()
    personas = {
        "dana": (org.employees[-1], []),
        "manager": (org.heads["front-desk"], []),
        "reviewer": (org.heads["contact-centre"], [Role.CX_REVIEWER]),
        "leader": (org.heads["acme"], [Role.LEADERSHIP]),
    }
    logins: dict[str, str] = {}
    for username, (employee, roles) in personas.items():
        password = new_password()
        user = user_model.objects.create_user(
            username=username,
            email=employee.email,
            password=password,
            first_name=employee.full_name.split()[0],
            last_name=employee.full_name.split()[-1],
        )
        user.groups.add(*(groups[role] for role in roles))
        employee.user = user
        employee.save(update_fields=["user"])
        logins[username] = password
    remember_credentials(logins)

    return [
        f"Org: {len(org.units)} units over customer layers 0-3, {len(org.employees)} employees.",
        "Demo logins: " + ", ".join(f"{name} / {password}" for name, password in logins.items()),
    ]
