"""Housekeeping tasks that prove the worker and beat are alive."""

import time

from celery import shared_task
from django.core.cache import cache

from .health import HEARTBEAT_CACHE_KEY


@shared_task(name="common.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Record when a worker last ran a beat-scheduled task (shown by /healthz)."""
    cache.set(HEARTBEAT_CACHE_KEY, time.time(), timeout=None)


@shared_task(name="common.ping")
def ping(value: str = "pong") -> str:
    """Echo a value back: used to prove a round trip through the broker to a worker."""
    return value
