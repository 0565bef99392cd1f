"""Liveness and readiness: can we reach the database and the Celery broker?"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

HEARTBEAT_CACHE_KEY = "worker-heartbeat"
# A broker that answered is not asked again for this many seconds (per process and broker URL): opening a broker
# connection is most of a health check's work, and load balancers poll often. So an outage shows within this time;
# a failure is never remembered, so a recovery shows at the next check.
BROKER_OK_REUSE_SECONDS = 5.0
_broker_ok: dict[str, tuple[float, str]] = {}
_broker_ok_lock = threading.Lock()
# /healthz answers within this many seconds whatever hangs: the checks run side by side, and one that has not
# answered by then counts as failed ("no answer within 1 s"): a healthy database or broker answers in milliseconds,
# and the whole answer stays under the 2 s a load balancer waits, even for the first request of a cold process.
CHECK_BUDGET_SECONDS = 1.0
# A broker check gives up by itself after this long (socket and connect timeouts), so its thread ends soon after.
CHECK_SOCKET_TIMEOUT_SECONDS = 1.0


@dataclass(slots=True)
class _Probe:
    """One running check, shared by every request that asks while it runs."""

    started: float
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None


# At most one thread per check and process: a dependency that hangs for minutes does not pile up a thread per poll;
# requests meanwhile wait on the same probe and report how long it has been waiting.
_in_flight: dict[str, _Probe] = {}
_in_flight_lock = threading.Lock()


def _run_probe(name: str, check: Callable[[], Any], probe: _Probe) -> None:
    try:
        probe.result = check()
    except Exception as exc:  # noqa: BLE001 - a check that raises reports "down" with the reason
        probe.result = (False, f"{type(exc).__name__}: {exc}")
    finally:
        connections.close_all()  # this thread's own database connection, if the check opened one
        with _in_flight_lock:
            if _in_flight.get(name) is probe:
                del _in_flight[name]
        probe.done.set()


def run_within(checks: dict[str, Callable[[], Any]], *, budget: float = CHECK_BUDGET_SECONDS) -> dict[str, Any]:
    """Run the checks side by side; return each one's result, or `TimeoutError(reason)` for one still running when
    `budget` seconds are up (it goes on in its thread, and later requests wait on it rather than start another)."""
    deadline = time.monotonic() + budget
    probes: dict[str, _Probe] = {}
    for name, check in checks.items():
        with _in_flight_lock:
            probe = _in_flight.get(name)
            if probe is None:
                probe = _in_flight[name] = _Probe(started=time.monotonic())
                thread = threading.Thread(target=_run_probe, args=(name, check, probe), name=f"healthz-{name}")
                thread.daemon = True
                thread.start()
        probes[name] = probe
    results: dict[str, Any] = {}
    for name, probe in probes.items():
        if probe.done.wait(max(0.0, deadline - time.monotonic())):
            results[name] = probe.result
        else:
            waited = time.monotonic() - probe.started
            results[name] = TimeoutError(f"no answer within {budget:g} s (waiting for {waited:.1f} s)")
    return results


def check_database() -> tuple[bool, str]:
    """Run `SELECT 1` on the default database."""
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the message says which
        return False, f"{type(exc).__name__}: {exc}"
    return True, connections["default"].vendor


def check_broker() -> tuple[bool, str]:
    """Is the Celery broker reachable? Asked at most every BROKER_OK_REUSE_SECONDS while it answers."""
    key = f"{settings.CELERY_BROKER_URL} {sorted(settings.CELERY_BROKER_TRANSPORT_OPTIONS.items())}"
    now = time.monotonic()
    with _broker_ok_lock:
        remembered = _broker_ok.get(key)
    if remembered is not None and now - remembered[0] < BROKER_OK_REUSE_SECONDS:
        return True, remembered[1]
    ok, detail = connect_to_broker()
    with _broker_ok_lock:
        if ok:
            _broker_ok[key] = (now, detail)
        else:
            _broker_ok.pop(key, None)
    return ok, detail


def connect_to_broker() -> tuple[bool, str]:
    """Open a connection to the Celery broker with a short timeout."""
    url = settings.CELERY_BROKER_URL
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    timeout = min(float(settings.HEALTHZ_BROKER_TIMEOUT), CHECK_SOCKET_TIMEOUT_SECONDS)
    if not url.startswith("filesystem://"):
        # Redis that accepts the connection and never answers: give up on the socket, not wait for the OS.
        for name in ("socket_timeout", "socket_connect_timeout"):
            options[name] = min(float(options.get(name) or timeout), timeout)  # type: ignore[arg-type]
    if url.startswith("filesystem://"):
        folder = Path(str(options["data_folder_in"]))
        if not folder.is_dir():
            return False, f"broker folder {folder} does not exist"
    try:
        with Connection(url, transport_options=options, connect_timeout=timeout) as conn:
            # kombu takes float seconds here; its stubs (celery-types) say int.
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=timeout)  # type: ignore[arg-type]
            transport = conn.transport_cls
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return False, f"{type(exc).__name__}: {exc}"
    return True, str(transport)


def worker_heartbeat_age() -> float | None:
    """Seconds since a Celery worker last ran the heartbeat task, or None if never seen."""
    try:
        last = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception:  # noqa: BLE001 - a cache outage must not break the health check
        return None
    return None if last is None else round(time.time() - float(last), 1)


def audit_sealing() -> dict[str, object] | None:
    """How many audit events wait for the sealer and the oldest one's age (docs/audit.md: the sealing window)."""
    from apps.audit.checkpoints import checkpoint_age_seconds
    from apps.audit.sealer import unsealed_summary

    try:
        summary = unsealed_summary()
    except Exception:  # noqa: BLE001 - the health check reports the database itself above
        return None
    # Seconds since this install last wrote a signed checkpoint (from the cache; None before the first).
    return {**summary, "last_checkpoint_age_seconds": checkpoint_age_seconds()}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report database and broker state (200 when both answer, 503 naming what failed) and the audit sealing lag.

    Answers within CHECK_BUDGET_SECONDS whatever hangs: the checks run side by side in the budget; the audit figures
    (a query and a cache read) are read afterwards, in the request's own transaction, only when both just answered.
    """
    answers = run_within({"database": check_database, "broker": check_broker, "heartbeat": worker_heartbeat_age})
    db_ok, db_detail = _outcome(answers["database"])
    broker_ok, broker_detail = _outcome(answers["broker"])
    heartbeat = answers["heartbeat"]
    cache_answered = not isinstance(heartbeat, TimeoutError)
    failed = [name for name, ok in (("database", db_ok), ("broker", broker_ok)) if not ok]
    body = {
        "status": "ok" if not failed else "unavailable",
        "failed": failed,
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
        "worker_heartbeat_age_seconds": heartbeat if cache_answered else None,
        "audit": audit_sealing() if db_ok and cache_answered else None,
    }
    return JsonResponse(body, status=200 if not failed else 503)


def _outcome(answer: Any) -> tuple[bool, str]:
    """A check's (ok, detail), or a failure saying it did not answer in time."""
    if isinstance(answer, TimeoutError):
        return False, str(answer)
    ok, detail = answer
    return bool(ok), str(detail)
