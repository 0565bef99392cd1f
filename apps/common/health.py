"""Liveness and readiness: can we reach the database and the Celery broker?"""

from __future__ import annotations

import threading
import time
from pathlib import Path

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
    if url.startswith("filesystem://"):
        folder = Path(str(options["data_folder_in"]))
        if not folder.is_dir():
            return False, f"broker folder {folder} does not exist"
    try:
        with Connection(url, transport_options=options, connect_timeout=settings.HEALTHZ_BROKER_TIMEOUT) as conn:
            # kombu takes float seconds here; its stubs (celery-types) say int.
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=3)  # type: ignore[arg-type]
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
    from apps.audit.sealer import unsealed_summary

    try:
        return unsealed_summary()
    except Exception:  # noqa: BLE001 - the health check reports the database itself above
        return None


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report database and broker state (200 when both answer, 503 naming what failed) and the audit sealing lag."""
    db_ok, db_detail = check_database()
    broker_ok, broker_detail = check_broker()
    failed = [name for name, ok in (("database", db_ok), ("broker", broker_ok)) if not ok]
    body = {
        "status": "ok" if not failed else "unavailable",
        "failed": failed,
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
        "worker_heartbeat_age_seconds": worker_heartbeat_age(),
        "audit": audit_sealing() if db_ok else None,
    }
    return JsonResponse(body, status=200 if not failed else 503)
