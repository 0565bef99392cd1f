"""API token authentication that loads the login's employee record in the same query."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class EmployeeTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with the user's employee record joined in: nearly every API request needs it
    (visibility, ownership, the `can` flags), and `apps.evidence.permissions.employee_of` takes it from there
    instead of asking the database a second time."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        model = self.get_model()
        try:
            token = model.objects.select_related("user", "user__employee").get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
