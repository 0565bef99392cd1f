"""Who receives reminders: employees (subjects, nominators, managers) and logins (reviewers, HR), with time zones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from apps.common.roles import Role


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person to e-mail, the time zone their sending hours are counted in, and who they are in the database."""

    email: str
    name: str
    timezone: str
    employee_id: int | None = None
    user_id: int | None = None

    @property
    def ref(self) -> str:
        """The recipient part of a reminder key."""
        return f"employee-{self.employee_id}" if self.employee_id else f"user-{self.user_id}"


def default_timezone() -> str:
    """The company's time zone, used for logins without an employee record."""
    return settings.TIME_ZONE


def employee_recipient(
    employee_id: int | None, name: str | None, email: str | None, tz: str | None, active: bool | None
) -> Recipient | None:
    """An active employee with an e-mail address as a recipient, else None."""
    if employee_id is None or not active or not email:
        return None
    return Recipient(email=email, name=name or email, timezone=tz or default_timezone(), employee_id=employee_id)


# Fields of a login read for `user_recipient`, in order.
USER_FIELDS = (
    "pk", "username", "first_name", "last_name", "email",
    "employee__full_name", "employee__email", "employee__timezone", "employee__active",
)  # fmt: skip


def user_recipient(row: tuple) -> Recipient | None:
    """A login as a recipient: its employee's address and time zone when it has one, else its own."""
    user_id, username, first, last, email, emp_name, emp_email, emp_tz, emp_active = row
    address = (emp_email if emp_active else "") or email
    if not address:
        return None
    name = emp_name or f"{first} {last}".strip() or username
    return Recipient(email=address, name=name, timezone=emp_tz or default_timezone(), user_id=user_id)


def _logins(group: str, *, with_superusers: bool = False) -> list[Recipient]:
    """Active logins in a group (and superusers, if asked) as recipients, in one query."""
    condition = Q(groups__name=group) | Q(is_superuser=True) if with_superusers else Q(groups__name=group)
    logins = get_user_model().objects.filter(condition, is_active=True).distinct().order_by("pk")
    rows = logins.values_list(*USER_FIELDS)
    return [r for r in (user_recipient(row) for row in rows) if r is not None]


def logins_by_id(user_ids: Iterable[int]) -> list[Recipient]:
    """Active logins with these ids as recipients, in id order (one query; none for no ids)."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    rows = get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("pk").values_list(*USER_FIELDS)
    return [r for r in (user_recipient(row) for row in rows) if r is not None]


def group_recipients(group: str) -> list[Recipient]:
    """Active members of a named group (one query)."""
    return _logins(group)


def leadership_recipients() -> list[Recipient]:
    """Everyone in Leadership: members of the group and superusers (one query)."""
    return _logins(Role.LEADERSHIP, with_superusers=True)


def hr_recipients() -> list[Recipient]:
    """Everyone HR: members of the HR group and superusers (one query)."""
    return _logins(Role.HR, with_superusers=True)


def cx_reviewers() -> list[Recipient]:
    """Members of the CX reviewers group, who review anyone's evidence (one query)."""
    return _logins(Role.CX_REVIEWER)
