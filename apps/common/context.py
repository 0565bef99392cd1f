"""Who is acting and under which request id, carried across a request, a Celery task or a command."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Actor:
    """The person or process a change is attributed to."""

    user_id: int | None
    name: str
    ip: str | None = None


SYSTEM = Actor(user_id=None, name="system")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("rc_request_id", default=None)
_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("rc_actor", default=None)
# The current HTTP request, so the actor is read from request.user when it is first needed: DRF
# authenticates inside the view, after the middleware ran, and copies the user onto the Django request.
_request: contextvars.ContextVar[Any] = contextvars.ContextVar("rc_request", default=None)


def new_request_id() -> str:
    """Return a fresh request id."""
    return uuid.uuid4().hex


def get_request_id() -> str | None:
    """Return the request id of the current request, task or command, if any."""
    return _request_id.get()


def get_actor() -> Actor:
    """Return the current actor: an explicit one, else the request's user, else 'system'."""
    explicit = _actor.get()
    if explicit is not None:
        return explicit
    request = _request.get()
    if request is not None:
        return actor_for_request(request)
    return SYSTEM


def actor_for_request(request: Any) -> Actor:
    """Return the actor for an HTTP request: its authenticated user, or 'anonymous'."""
    user = getattr(request, "user", None)
    ip = request.META.get("REMOTE_ADDR") or None
    if user is None or not user.is_authenticated:
        return Actor(user_id=None, name="anonymous", ip=ip)
    return Actor(user_id=user.pk, name=user.get_username(), ip=ip)


@contextmanager
def acting_as(actor: Actor, request_id: str | None = None) -> Iterator[Actor]:
    """Attribute everything inside the block to `actor` under `request_id` (a new one if not given)."""
    actor_token = _actor.set(actor)
    request_token = _request_id.set(request_id or get_request_id() or new_request_id())
    try:
        yield actor
    finally:
        _actor.reset(actor_token)
        _request_id.reset(request_token)


def system_actor(process: str) -> Actor:
    """Return the actor for a background process, e.g. 'system: reminders.plan'."""
    return Actor(user_id=None, name=f"system: {process}")


def set_request_id(value: str | None) -> contextvars.Token[str | None]:
    """Set the request id for the current context; return the token to reset it."""
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token[str | None]) -> None:
    """Undo `set_request_id`."""
    _request_id.reset(token)


def set_actor(value: Actor | None) -> contextvars.Token[Actor | None]:
    """Set the actor for the current context; return the token to reset it."""
    return _actor.set(value)


def reset_actor(token: contextvars.Token[Actor | None]) -> None:
    """Undo `set_actor`."""
    _actor.reset(token)


def set_request(value: Any) -> contextvars.Token[Any]:
    """Make `value` the current HTTP request; return the token to reset it."""
    return _request.set(value)


def reset_request(token: contextvars.Token[Any]) -> None:
    """Undo `set_request`."""
    _request.reset(token)


def has_actor() -> bool:
    """True when an explicit actor (acting_as) or a current request says who is acting."""
    return _actor.get() is not None or _request.get() is not None
