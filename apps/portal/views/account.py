"""Signing in and out, and the front door."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def home(request: HttpRequest) -> HttpResponse:
    """Signed-in users land on their evidence; everyone else on the sign-in page."""
    if request.user.is_authenticated:
        return redirect("portal:my-evidence")
    return redirect("portal:login")


login = auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True)
# Django's LogoutView accepts POST only, so a link or a prefetch cannot sign anyone out.
logout = auth_views.LogoutView.as_view()
