"""API token authentication that loads the login and its employee record in one query, compiled once."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from .prepared import Prepared

# Compiling this query costs about 0.5 ms of CPU, four times what running it costs, on every API request.
_TOKEN_LOOKUP = Prepared(Token, lambda key: Token.objects.select_related("user", "user__employee").filter(key=key), "")


def token_with_user_and_employee(key: str) -> Token | None:
    """The token of this key with its user and the user's employee record (None if there is none), or None."""
    return _TOKEN_LOOKUP.query().first(key)


class EmployeeTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with the user's employee record loaded in the same query: nearly every API
    request needs it (visibility, ownership, the `can` flags), and `apps.evidence.permissions.employee_of` takes it
    from there instead of asking the database a second time."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = token_with_user_and_employee(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
