"""The product's roles, as Django groups."""

from django.contrib.auth.models import Group
from django.db import models


class Role(models.TextChoices):
    """Groups that carry the product's roles."""

    HR = "HR", "HR"
    LEADERSHIP = "Leadership", "Leadership"
    CX_REVIEWER = "CX reviewers", "CX reviewers"


def ensure_role_groups() -> dict[str, Group]:
    """Create the role groups if missing and return them by name."""
    return {role.value: Group.objects.get_or_create(name=role.value)[0] for role in Role}
