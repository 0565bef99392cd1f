"""The whole demo company: calls each app's seeder in dependency order."""

from __future__ import annotations

import random

from django.utils import timezone

from apps.cases.demo import seed_cases
from apps.common.credentials import new_password, remember_credentials
from apps.common.roles import Role, ensure_role_groups, grant_hr_permissions
from apps.evidence.demo import seed_evidence
from apps.org.demo import seed_org
from apps.policies.demo import seed_policies
from apps.reminders.demo import seed_reminders

from .logins import persona_lines


def seed_all(*, employees: int, rng: random.Random) -> list[str]:
    """Create the whole demo company and return summary lines to print."""
    from django.contrib.auth import get_user_model

    groups = ensure_role_groups()
    grant_hr_permissions()
    org = seed_org(employees=employees, rng=rng)
    policies = seed_policies(units=org.units, today=timezone.localdate())

    # Logins for a few personas, so every role can be tried at once.
    user_model = get_user_model()
    # Dana is the first member of the front desk (apps.org.demo names her).
    personas = {
        "dana": (next(e for e in org.employees if e.manager_id == org.heads["front-desk"].pk), []),
        "manager": (org.heads["front-desk"], []),
        "reviewer": (org.heads["contact-centre"], [Role.CX_REVIEWER]),
        "leader": (org.heads["acme"], [Role.LEADERSHIP]),
        "hr": (org.heads["people"], [Role.HR]),
        "hr2": (org.heads["legal"], [Role.HR]),
    }
    logins: dict[str, str] = {}
    users = {}
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
        if Role.HR in roles:
            # HR works in the admin.
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        employee.user = user
        employee.save(update_fields=["user"])
        logins[username] = password
        users[username] = user
    remember_credentials(logins)
    evidence = seed_evidence(
        employees=org.employees, units=org.units, reviewer=users["reviewer"], rng=rng, showcase=personas["dana"][0]
    )
    cases = seed_cases(units=org.units, heads=org.heads, users=users, today=timezone.localdate(), rng=rng)
    seed_reminders(heads=org.heads)

    return [
        f"Org: {len(org.units)} units over customer layers 0-3, {len(org.employees)} employees.",
        f"Policies: a baseline for each of {len(policies.baselines)} rituals, "
        f"{len(policies.versions)} versions (last year's, this year's, a draft for next year, group additions).",
        "Evidence: "
        + ", ".join(f"{count} {status.replace('_', ' ')}" for status, count in sorted(evidence.items()))
        + ".",
        "Cases: " + ", ".join(f"{count} {status.lower()}" for status, count in cases.items()) + ".",
        "Demo logins (user / password   who they are):",
        *(f"  {line}" for line in persona_lines(logins)),
    ]
