"""Failed-login lockout (django-axes) wired into the portal, the admin and the API's Basic auth.

Axes counts failures per user name and client address (`AXES_LOCKOUT_PARAMETERS`) and, past
`AXES_FAILURE_LIMIT`, refuses every sign-in of that pair (the right password included) for
`AXES_COOLOFF_TIME`. This module gives the refusal its faces: the sign-in page with a message (429) for the
portal and the admin, a JSON 429 for the API.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.authentication import BasicScheme
from rest_framework import status
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import APIException, AuthenticationFailed


def cooloff_minutes() -> int:
    """How long a lockout lasts, in whole minutes (at least 1)."""
    cooloff = settings.AXES_COOLOFF_TIME
    seconds = cooloff.total_seconds() if isinstance(cooloff, timedelta) else float(cooloff or 0) * 3600
    return max(1, round(seconds / 60))


def lockout_message() -> str:
    """What a locked-out person reads (the same on every interface)."""
    return (
        f"Too many failed sign-ins for this user from your address. Sign-in is blocked for {cooloff_minutes()} "
        "minutes; try again later, or ask HR to unlock it sooner."
    )


class RequestAwareAxesBackend(AxesStandaloneBackend):
    """Axes' lockout check for every sign-in that comes with an HTTP request.

    Web sign-ins (portal, admin) and DRF's Basic auth always pass the request. Calls without one (a management
    command, a shell, Django's test client `login()`) are not web attempts an attacker controls, so they skip the
    check instead of failing with axes' "request is required" error; the next backend still checks the password.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LockedOut(APIException):
    """The API's answer to a Basic-auth sign-in refused by the lockout (429 with Retry-After)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self) -> None:
        super().__init__(lockout_message())
        self.wait = cooloff_minutes() * 60


class LockoutAwareBasicAuthentication(BasicAuthentication):
    """HTTP Basic auth that says "locked out" (429) instead of "invalid password" (401) during a lockout."""

    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> Any:
        try:
            return super().authenticate_credentials(userid, password, request)
        except AuthenticationFailed:
            if request is not None and getattr(request, "axes_locked_out", False):
                raise LockedOut() from None
            raise


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page with the lockout message (429); JSON for the API."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": lockout_message()}, status=429)
    else:
        admin_prefix = reverse("admin:index")
        default_next = admin_prefix if request.path.startswith(admin_prefix) else ""
        context = {
            "form": AuthenticationForm(request),
            "locked_out": True,
            "lockout_message": lockout_message(),
            "next": request.POST.get("next") or request.GET.get("next") or default_next,
        }
        response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(cooloff_minutes() * 60)
    return response


class LockoutAwareBasicScheme(BasicScheme):
    """Document LockoutAwareBasicAuthentication in the OpenAPI schema as plain HTTP Basic."""

    target_class = "apps.common.login_protection.LockoutAwareBasicAuthentication"
