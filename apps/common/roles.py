"""The product's roles, as Django groups."""

from typing import cast

from django.contrib.auth.models import Group, User
from django.db import models
from django.db.models import prefetch_related_objects


class Role(models.TextChoices):
    """Groups that carry the product's roles."""

    HR = "HR", "HR"
    LEADERSHIP = "Leadership", "Leadership"
    CX_REVIEWER = "CX reviewers", "CX reviewers"


def ensure_role_groups() -> dict[str, Group]:
    """Create the role groups if missing and return them by name."""
    return {role.value: Group.objects.get_or_create(name=role.value)[0] for role in Role}


def user_role_names(user: object) -> frozenset[str]:
    """The names of the groups a user belongs to.

    The groups are read once per user object: `prefetch_related_objects` skips a relation already prefetched (by
    the token authentication's `prefetch_related`, or an earlier call here), and `groups.add()`/`remove()` forget it.
    """
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    signed_in = cast(User, user)  # only a real user is authenticated
    prefetch_related_objects([signed_in], "groups")
    return frozenset(group.name for group in signed_in.groups.all())


def is_hr(user: object) -> bool:
    """HR (or a superuser) sees and administers everything."""
    return bool(getattr(user, "is_superuser", False)) or Role.HR in user_role_names(user)


def is_leadership(user: object) -> bool:
    """Leadership reads compliance reports."""
    return bool(getattr(user, "is_superuser", False)) or Role.LEADERSHIP in user_role_names(user)


def is_cx_reviewer(user: object) -> bool:
    """Members of the CX reviewers group review anyone's evidence but their own."""
    return Role.CX_REVIEWER in user_role_names(user)


# What the HR group may do in the admin: run the criteria, cycles, cases, reminders and insights; read evidence
# and the trail.
HR_FULL_APPS = ("org", "policies", "cases", "reminders", "reports", "privacy", "insights")
HR_VIEW_APPS = ("evidence", "audit", "auth")


def grant_hr_permissions() -> int:
    """Give the HR group its admin permissions (idempotent); return how many it holds."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    group = ensure_role_groups()[Role.HR]
    permissions = Permission.objects.filter(
        Q(content_type__app_label__in=HR_FULL_APPS)
        | Q(content_type__app_label__in=HR_VIEW_APPS, codename__startswith="view_")
        # HR keeps the company's own score-solicitation phrasings (evidence is otherwise read-only for HR).
        | Q(content_type__app_label="evidence", content_type__model="solicitationphrase")
    )
    group.permissions.add(*permissions)
    return group.permissions.count()
