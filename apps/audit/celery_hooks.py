"""Celery tasks act as 'system: <task name>', under the request id of whoever queued them (or the task id)."""

from __future__ import annotations

from contextvars import Token
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun

from apps.common.context import (
    Actor,
    get_request_id,
    has_actor,
    reset_actor,
    reset_request_id,
    set_actor,
    set_request_id,
    system_actor,
)

REQUEST_ID_HEADER = "rc_request_id"
_tokens: dict[str, tuple[Token[Actor | None], Token[str | None]]] = {}


@before_task_publish.connect(dispatch_uid="audit:task-request-id")
def _pass_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = get_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect(dispatch_uid="audit:task-actor")
def _act_as_task(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    if task is None or task_id is None or has_actor():
        return  # run inline inside acting_as or a request: keep that actor
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) or task_id
    _tokens[task_id] = (set_actor(system_actor(task.name)), set_request_id(request_id))


@task_postrun.connect(dispatch_uid="audit:task-actor")
def _stop_acting_as_task(task_id: str | None = None, **kwargs: Any) -> None:
    tokens = _tokens.pop(task_id, None) if task_id is not None else None
    if tokens is not None:
        reset_actor(tokens[0])
        reset_request_id(tokens[1])
