"""The actor and request id put on events, with a default for management commands."""

from __future__ import annotations

import os
from collections.abc import Sequence

from apps.common.context import SYSTEM, Actor, get_actor, get_request_id, new_request_id, system_actor

# Programs through which Django runs a management command.
_COMMAND_RUNNERS = frozenset({"manage.py", "django-admin", "django-admin.py", "__main__.py"})

_process_actor: Actor | None = None
_process_request_id: str | None = None


def command_from_argv(argv: Sequence[str]) -> str | None:
    """Return the management command this process runs ('migrate' for `manage.py migrate`), if any."""
    if len(argv) < 2 or os.path.basename(argv[0]) not in _COMMAND_RUNNERS or argv[1].startswith("-"):
        return None
    return argv[1]


def set_process_actor(actor: Actor | None, request_id: str | None = None) -> None:
    """Attribute this process's changes to `actor` wherever no request, task or acting_as says otherwise."""
    global _process_actor, _process_request_id
    _process_actor = actor
    _process_request_id = (request_id or new_request_id()) if actor is not None else None


def use_command_actor(argv: Sequence[str]) -> None:
    """Make 'system: manage.py <command>' the default actor when this process runs a management command."""
    command = command_from_argv(argv)
    if command is not None:
        set_process_actor(system_actor(f"manage.py {command}"))


def current_actor() -> Actor:
    """Return who the next event is attributed to."""
    actor = get_actor()
    if actor is SYSTEM and _process_actor is not None:
        return _process_actor
    return actor


def current_request_id() -> str:
    """Return the request id the next event carries ('' when there is none)."""
    request_id = get_request_id()
    if request_id is None and get_actor() is SYSTEM:
        request_id = _process_request_id
    return request_id or ""
