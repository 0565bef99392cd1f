"""API token authentication that loads the login with its employee record and role groups."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_with_user_and_employee(key: str) -> Token | None:
    """The token of this key with its user, the user's employee record and role groups loaded, or None.

    Nearly every API request needs the employee (visibility, ownership, the `can` flags) and the roles
    (`apps.common.roles.user_role_names` uses the prefetched groups), so they come with the token: two queries.
    """
    return (
        Token.objects.select_related("user", "user__employee").prefetch_related("user__groups").filter(key=key).first()
    )


class EmployeeTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with the user's employee record and groups loaded up front."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = token_with_user_and_employee(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
