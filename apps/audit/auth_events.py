"""Login, logout and failed login, as audit events with the client's IP address."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.common.context import Actor, acting_as

from .constants import AuditAction
from .services import audit_record


def _ip(request: Any) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@receiver(user_logged_in, dispatch_uid="audit:login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    with acting_as(Actor(user_id=user.pk, name=user.get_username(), ip=_ip(request))):
        audit_record(action=AuditAction.LOGIN, obj=user)


@receiver(user_logged_out, dispatch_uid="audit:logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return  # logging out an anonymous session changes nothing
    with acting_as(Actor(user_id=user.pk, name=user.get_username(), ip=_ip(request))):
        audit_record(action=AuditAction.LOGOUT, obj=user)


@receiver(user_login_failed, dispatch_uid="audit:login-failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django has already masked the password in `credentials`; only the name tried is kept.
    username = str(credentials.get(get_user_model().USERNAME_FIELD, ""))[:150]
    context: dict[str, Any] = {"username": username}
    # The failed-login lockout (django-axes, whose receiver runs first) flags the request once this user name and
    # address are locked out: the attempt that crossed the limit and every attempt refused during the lockout.
    if request is not None and getattr(request, "axes_locked_out", False):
        context["locked_out"] = True
        failures = getattr(request, "axes_failures_since_start", None)
        if failures is not None:
            context["failures"] = failures
    with acting_as(Actor(user_id=None, name="anonymous", ip=_ip(request))):
        audit_record(
            action=AuditAction.LOGIN_FAILED,
            object_type=get_user_model()._meta.label_lower,
            object_repr=username,
            context=context,
        )
