"""The demo logins as lines to print: who each persona is and what to try with it."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from apps.common.credentials import load_credentials

from .constants import PERSONAS


def persona_lines(logins: dict[str, str] | None = None) -> list[str]:
    """One line per saved demo login, "user / password  what they do", in the personas' order (one query)."""
    logins = load_credentials() if logins is None else logins
    if not logins:
        return []
    users = {
        user.username: user
        for user in get_user_model().objects.filter(username__in=list(logins)).select_related("employee__org_unit")
    }
    order = {name: position for position, name in enumerate(PERSONAS)}
    names = sorted(logins, key=lambda name: (order.get(name, len(order)), name))
    width = max(len(f"{name} / {logins[name]}") for name in names)
    lines = []
    for username in names:
        user = users.get(username)
        employee = getattr(user, "employee", None) if user is not None else None
        name = employee.full_name if employee is not None else (user.get_full_name() if user is not None else "")
        unit = employee.org_unit.name if employee is not None else ""
        role = PERSONAS.get(username, "a demo login").format(name=name or username, unit=unit or "no unit")
        lines.append(f"{username} / {logins[username]}".ljust(width) + f"   {role}")
    return lines
