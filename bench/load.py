"""Load test: the product's evidence API against its stock equivalent, 20 clients, gunicorn on loopback.

Run from the repository root against a PostgreSQL database of its own (migrated and seeded here; the seeded
people are reused on the next run):

    createdb -h 127.0.0.1 -U postgres rc_load
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rc_load REDIS_URL=redis://127.0.0.1:6379/8 python bench/load.py

Both are required: production runs on PostgreSQL with Redis as its broker (without REDIS_URL the settings fall back
to the embedded default's file-system queue, which is not what is being measured). `--seconds 10` makes a short run.

Gunicorn runs with the shipped gunicorn.conf.py (sync workers, two per core; --workers to change) and production
settings through bench/settings_load.py, whose only change is the URL map (bench/stock_urls.py): the product's
urls plus, under /bench-stock/, the stock equivalent of the evidence API (bench/stock_api.py: a DRF ModelViewSet
with a plain ModelSerializer over the same Evidence model, the same authentication and page size, the list cut to
the caller's own items). Each phase drives one kind of work with --clients threads (each its own API token, no
pause between requests; a connection per request, which the server closes after its answer, as it does behind the
reverse proxy of production; plain sockets, the lightest client Python has, since the clients share the server's
cores), against the product and against the stock API in turn, --rounds times each, --seconds in all per API:
  healthz  GET /healthz (database and broker check, no auth): the server's ceiling
  list     GET /api/evidence/ (50 items a page, as the employee sees them)
           stock: GET /bench-stock/evidence/ (50 of the caller's own items a page)
  submit   POST /api/evidence/ (a new draft), then POST /api/evidence/{id}/submit/ (sent for review)
           stock: POST /bench-stock/evidence/, then PATCH /bench-stock/evidence/{id}/ {"status": "submitted"}
It prints requests/s, p50/p95/p99 latency and the error count of each kind and API, and the ratios.
Target: zero errors, and each of the product's create, submit and list requests at most 2x its stock equivalent:
its p95 at most twice the stock p95, and the stock throughput at most twice the product's. The last line is the
verdict. No Celery worker runs: after the submit phases the script drains the queued evidence events in-process,
as the worker would, and prints what that cost an event. Then the CPU each phase cost a request, read from /proc:
the web server (gunicorn and its workers), the database's server processes, the clients (this process), and how
busy the machine's cores were. Everything is bounded in time: gunicorn is stopped at the end, whatever happens.
This is a benchmark, not a CI test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from proc_cpu import TICKS, cpu_of, stat_fields  # bench/proc_cpu.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_RATIO = 2.0  # the product may cost at most twice its stock equivalent
APIS = ("product", "stock")
SEED_ITEMS_PER_CLIENT = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(port: int) -> dict[str, str]:
    """Production settings on loopback: plain HTTP (no HTTPS redirect), this host only, quiet logs."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings_load",
        SECRET_KEY=env.get("SECRET_KEY") or secrets.token_urlsafe(50),
        AUDIT_CHAIN_KEY=env.get("AUDIT_CHAIN_KEY") or secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
    )
    return env


def seed(clients: int) -> list[str]:
    """Migrate, then make one employee with an API token and some items per client; return the tokens."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from apps.common.context import acting_as, system_actor
    from apps.evidence.services import evidence_create
    from apps.org.constants import JobFunction
    from apps.org.models import Employee, OrgUnit
    from apps.policies.models import EvidenceCategory

    call_command("migrate", interactive=False, verbosity=0)
    user_model = get_user_model()
    tokens = []
    with acting_as(system_actor("bench.load")):
        unit, _ = OrgUnit.objects.get_or_create(code="load-test", defaults={"name": "Load test"})
        category = EvidenceCategory.objects.get(code="customer_story")
        function = JobFunction.values[0]
        boss_user, _ = user_model.objects.get_or_create(username="load-manager")
        boss, _ = Employee.objects.get_or_create(
            user=boss_user,
            defaults={
                "full_name": "Load Manager",
                "email": "load-manager@example.com",
                "employee_number": "LOAD-MGR",
                "org_unit": unit,
                "job_function": function,
            },
        )
        for n in range(clients):
            user, _ = user_model.objects.get_or_create(username=f"load-{n}")
            employee, created = Employee.objects.get_or_create(
                user=user,
                defaults={
                    "full_name": f"Load Tester {n}",
                    "email": f"load-{n}@example.com",
                    "employee_number": f"LOAD-{n:04d}",
                    "org_unit": unit,
                    "job_function": function,
                    "manager": boss,
                },
            )
            if created:
                for i in range(SEED_ITEMS_PER_CLIENT):
                    evidence_create(by=user, data=draft_fields(category, f"Seeded item {i}"))
            tokens.append(Token.objects.get_or_create(user=user)[0].key)
    from django.db import connections

    connections.close_all()
    return tokens


def draft_category_id() -> int:
    """The id of the drafts' category: the stock API takes it by id, the product's by code."""
    from django.db import connections

    from apps.policies.models import EvidenceCategory

    category_id = EvidenceCategory.objects.get(code=json.loads(DRAFT_BODY)["category"]).pk
    connections.close_all()
    return category_id


def draft_fields(category: object, title: str) -> dict[str, object]:
    return {
        "category": category,
        "title": title,
        "customer_quote": "I could not book a room for my wheelchair on your site.",
        "source_type": "support_ticket",
        "source_reference": "TCK-1",
        "interpretation": "Accessible rooms were invisible to online guests.",
        "response": "Rebuilt the filter and called the guest back.",
        "customer_type": "external",
        "impact_date": dt.date.today() - dt.timedelta(days=10),
    }


DRAFT_BODY = json.dumps(
    {
        "category": "customer_story",
        "title": "Shorter hold times for accessible-room bookings",
        "customer_quote": "I waited forty minutes to book a room I can use.",
        "source_type": "support_ticket",
        "source_reference": "TCK-4242",
        "interpretation": "Guests with disabilities waited longest of all.",
        "response": "Added a priority line for accessibility requests.",
        "customer_type": "external",
        "impact_date": (dt.date.today() - dt.timedelta(days=5)).isoformat(),
    }
)


@dataclass
class Tally:
    """Latencies (seconds) and errors of one kind of request."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, ok: bool, what: str = "") -> None:
        with self.lock:
            if ok:
                self.latencies.append(seconds)
            else:
                self.errors += 1
                if len(self.error_examples) < 3:
                    self.error_examples.append(what)


def http_request(method: str, path: str, headers: dict[str, str], body: str | None = None) -> bytes:
    """The bytes of one HTTP/1.1 request on a connection of its own (`Connection: close`), built once per kind."""
    data = body.encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _dechunk(body: bytes) -> bytes:
    out, rest = [], body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(out)


def timed(port: int, request: bytes) -> tuple[float, int, bytes]:
    """Send one request on a new connection and read the answer to the server's close; return the seconds from
    connecting to the last byte, the status and the body. Plain sockets: http.client cost the clients, who share
    the server's cores, three times the CPU for the same exchange."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    seconds = time.perf_counter() - started
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1."):
        raise http.client.BadStatusLine(repr(head[:40]))
    if b"\r\ntransfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    return seconds, int(head[9:12]), body


def stock_draft_body(category_id: int) -> str:
    """The same draft for the stock API, which takes the category by id."""
    return json.dumps({**json.loads(DRAFT_BODY), "category": category_id})


def client_loop(
    phase: str, api: str, port: int, token: str, category_id: int, stop_at: float, tallies: dict[str, Tally]
) -> None:
    """One client: a connection per request (the server closes it after each answer, as it does behind the
    reverse proxy of production); requests back to back until the end."""
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    json_headers = {**headers, "Content-Type": "application/json"}
    healthz = http_request("GET", "/healthz", {})
    if api == "product":
        listing = http_request("GET", "/api/evidence/", headers)
        create = http_request("POST", "/api/evidence/", json_headers, DRAFT_BODY)
    else:
        listing = http_request("GET", "/bench-stock/evidence/", headers)
        create = http_request("POST", "/bench-stock/evidence/", json_headers, stock_draft_body(category_id))
    submitted = json.dumps({"status": "submitted"})
    while time.perf_counter() < stop_at:
        try:
            if phase == "healthz":
                seconds, status, _ = timed(port, healthz)
                tallies["healthz"].add(seconds, status == 200, f"{status}")
            elif phase == "list":
                seconds, status, body = timed(port, listing)
                tallies["list"].add(seconds, status == 200, f"{status} {body[:200]!r}")
            else:
                seconds, status, body = timed(port, create)
                tallies["create"].add(seconds, status == 201, f"{status} {body[:200]!r}")
                if status != 201:
                    continue
                item = json.loads(body)["id"]
                if api == "product":
                    submit = http_request("POST", f"/api/evidence/{item}/submit/", headers)
                else:
                    submit = http_request("PATCH", f"/bench-stock/evidence/{item}/", json_headers, submitted)
                seconds, status, body = timed(port, submit)
                tallies["submit"].add(seconds, status == 200, f"{status} {body[:200]!r}")
        except (OSError, ValueError, http.client.HTTPException) as exc:
            tallies.setdefault(phase, Tally()).add(0.0, False, repr(exc))


def cpu_snapshot(server_session: int, database: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far of each process of the web server (gunicorn's session), of the database's server
    processes and of this one (the clients), and of the whole machine (busy, all cores; under pid 0), from /proc."""
    totals: dict[str, dict[int, float]] = {"web": {}, "db": {}, "clients": {}}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = stat_fields(proc.name)
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended meanwhile
            continue
        pid, used = int(proc.name), cpu_of(fields)
        if int(fields[3]) == server_session:
            totals["web"][pid] = used
        elif cmdline.startswith("postgres:") and f" {database} " in cmdline:
            totals["db"][pid] = used
        elif pid == os.getpid():
            totals["clients"][pid] = used
    cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    totals["busy"] = {0: (sum(map(int, cpu)) - int(cpu[3]) - int(cpu[4])) / TICKS}  # all but idle and iowait
    return totals


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each part used between two snapshots, process by process: a process that started meanwhile
    counts whole; one that ended meanwhile (a database connection past its DB_CONN_MAX_AGE) is not counted."""
    return {
        part: sum(used - before[part].get(pid, 0.0) for pid, used in processes.items())
        for part, processes in after.items()
    }


def drain_queued_events() -> tuple[int, float]:
    """What the reminders' worker does after the submissions (no worker runs during the phases): write the queued
    events' notices, in-process; return the events taken and the CPU seconds it cost (this process only)."""
    from apps.common.context import acting_as, system_actor
    from apps.reminders.services import reminders_drain_events

    started = time.process_time()
    with acting_as(system_actor("bench.load")):
        taken = reminders_drain_events()
    return taken, time.process_time() - started


def review_notices_since(started: dt.datetime) -> str:
    """The worker's share of the submissions, measured after the phase: their queued events drained into review
    requests (handed to the broker at once in the reviewers' sending hours, else left for them)."""
    from apps.reminders.constants import ReminderKind
    from apps.reminders.models import Reminder

    taken, cpu = drain_queued_events()
    notices = Reminder.objects.filter(kind=ReminderKind.REVIEW_REQUESTED, created_at__gte=started)
    published = notices.filter(enqueued_at__isnull=False).count()
    return (
        f"then the worker's drain (in-process, after the phase): {taken} queued events into {notices.count()} review "
        f"requests, {published} handed to the broker at once, {cpu / max(taken, 1) * 1000:.2f} ms of CPU an event"
    )


def run_phase(
    phase: str, api: str, port: int, tokens: list[str], category_id: int, seconds: float, tallies: dict[str, Tally]
) -> None:
    """Drive one phase against one API for `seconds`, adding to `tallies`."""
    stop_at = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=client_loop, args=(phase, api, port, token, category_id, stop_at, tallies), daemon=True)
        for token in tokens
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)


def new_tallies() -> dict[str, Tally]:
    return {name: Tally() for name in ("healthz", "list", "create", "submit")}


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index] * 1000


@dataclass
class Figures:
    """What one kind of request did against one API."""

    rate: float
    p95: float
    errors: int


def report(name: str, api: str, tally: Tally, seconds: float) -> Figures:
    count = len(tally.latencies)
    p50, p95, p99 = (percentile(tally.latencies, p) for p in (50, 95, 99))
    mean = statistics.fmean(tally.latencies) * 1000 if tally.latencies else float("nan")
    print(
        f"{name:<8} {api:<8} {count / seconds:8.1f} req/s  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
        f"p99 {p99:7.1f} ms  mean {mean:7.1f} ms  n {count:6d}  errors {tally.errors}"
    )
    for example in tally.error_examples:
        print(f"         error: {example}")
    return Figures(count / seconds, p95, tally.errors)


def interpreter_speed() -> float:
    """Milliseconds this interpreter takes for a fixed piece of plain Python (objects, calls, a dict, str()), the
    best of three: runs compare across machines, hours and interpreters (lower is faster). A CPython built without
    profile-guided optimisation (pyenv's default) took 1.0 to 2.2 times as long as Debian's optimised build here,
    varying from one process to the next."""

    class Item:
        def __init__(self, value: int) -> None:
            self.value = value

        def next(self) -> int:
            return self.value + 1

    def work() -> float:
        started = time.process_time()
        seen: dict[int, int] = {}
        for n in range(200_000):
            seen[n % 1000] = Item(n).next()
            str(n)
        return time.process_time() - started

    return min(work() for _ in range(3)) * 1000


def wait_until_up(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status in (200, 503):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer on port {port} within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="length of each phase, per API (default 30; 10 for a short run)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="slices each phase is cut into, product and stock alternating (default 3)"
    )
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument(
        "--phases", default="healthz,list,submit", help="comma-separated phases to run (default healthz,list,submit)"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database of its own, e.g. postgres://...@127.0.0.1/rc_load")
    if not os.environ.get("REDIS_URL", "").startswith("redis"):
        raise SystemExit("Set REDIS_URL to Redis, the broker of production, e.g. redis://127.0.0.1:6379/8")

    port = free_port()
    os.environ.update(server_env(port))
    workers = args.workers or 2 * (os.cpu_count() or 1)  # gunicorn.conf.py's default
    started = time.perf_counter()
    tokens = seed(args.clients)
    category_id = draft_category_id()
    drain_queued_events()  # what earlier runs left queued (no worker runs here)
    print(
        f"python {platform.python_version()} ({sys.executable}; plain-Python calibration {interpreter_speed():.0f} ms, "
        f"lower is faster) on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"gunicorn ({ROOT / 'gunicorn.conf.py'}, {workers} sync workers) on 127.0.0.1:{port}; "
        f"{args.clients} clients, {args.seconds:.0f} s a phase and API in {args.rounds} rounds; "
        f"seeded in {time.perf_counter() - started:.1f} s"
    )
    gunicorn = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "ritualcriteria.wsgi",
            f"--config={ROOT / 'gunicorn.conf.py'}",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=server_env(port),
        start_new_session=True,
    )
    try:
        wait_until_up(port, 60)
        for api in APIS:  # warm-up: imports, connections, caches
            run_phase("list", api, port, tokens, category_id, 2, new_tallies())
        phases = [phase for phase in ("healthz", "list", "submit") if phase in args.phases.split(",")]
        database = urllib.parse.urlparse(os.environ["DATABASE_URL"]).path.lstrip("/")
        results = {(phase, api): new_tallies() for phase in phases for api in APIS}
        cpu: dict[tuple[str, str], dict[str, float]] = {}
        submit_started = dt.datetime.now(dt.UTC)
        for phase in phases:
            apis = ("product",) if phase == "healthz" else APIS
            for round_ in range(args.rounds):
                # Alternate which API goes first, so that neither always runs after the other.
                for api in apis if round_ % 2 == 0 else apis[::-1]:
                    before = cpu_snapshot(gunicorn.pid, database)
                    slice_ = args.seconds / args.rounds
                    run_phase(phase, api, port, tokens, category_id, slice_, results[phase, api])
                    used = cpu_used(before, cpu_snapshot(gunicorn.pid, database))
                    total = cpu.setdefault((phase, api), dict.fromkeys(used, 0.0))
                    for part, seconds in used.items():
                        total[part] += seconds
        notices = review_notices_since(submit_started) if "submit" in phases else ""
        print()
        figures: dict[tuple[str, str], Figures] = {}
        if "healthz" in phases:
            report("healthz", "product", results["healthz", "product"]["healthz"], args.seconds)
        for kind, phase in (("list", "list"), ("create", "submit"), ("submit", "submit")):
            if phase in phases:
                for api in APIS:
                    figures[kind, api] = report(kind, api, results[phase, api][kind], args.seconds)
        if notices:
            print(f"         {notices}")
        print(f"\nCPU a request (ms; {os.cpu_count()} cores, busy = share of all cores used during the phase):")
        for (phase, api), used in cpu.items():
            count = sum(len(tally.latencies) + tally.errors for tally in results[phase, api].values())
            per = {part: used[part] / max(count, 1) * 1000 for part in ("web", "db", "clients")}
            print(
                f"  {phase:<8} {api:<8} web server {per['web']:6.2f}  database {per['db']:6.2f}  "
                f"clients {per['clients']:5.2f}  busy {used['busy'] / (args.seconds * (os.cpu_count() or 1)):4.0%}"
            )
        print_verdict(figures, results)
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        try:
            gunicorn.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(gunicorn.pid, signal.SIGKILL)
            gunicorn.wait(timeout=10)


def print_verdict(figures: dict[tuple[str, str], Figures], results: dict[tuple[str, str], dict[str, Tally]]) -> None:
    """The ratios of each kind, then the verdict as the last line (only when list and submit both ran)."""
    kinds = [kind for kind in ("create", "submit", "list") if (kind, "product") in figures]
    errors = sum(tally.errors for tallies in results.values() for tally in tallies.values())
    ok = errors == 0
    parts = []
    print()
    for kind in kinds:
        product, stock = figures[kind, "product"], figures[kind, "stock"]
        p95_ratio = product.p95 / stock.p95
        rate_ratio = stock.rate / product.rate if product.rate else float("inf")
        ok = ok and p95_ratio <= TARGET_RATIO and rate_ratio <= TARGET_RATIO
        print(
            f"{kind:<8} p95 product {product.p95:6.1f} ms / stock {stock.p95:6.1f} ms = {p95_ratio:4.2f}; "
            f"throughput stock {stock.rate:6.1f} / product {product.rate:6.1f} req/s = {rate_ratio:4.2f}"
        )
        parts.append(f"{kind} p95 {product.p95:.1f}/{stock.p95:.1f} ms = {p95_ratio:.2f}, throughput {rate_ratio:.2f}")
    if len(kinds) < 3:
        print("(no verdict: run both the list and the submit phases)")
        return
    print(
        f"load: {'; '.join(parts)} (product/stock p95, stock/product throughput); {errors} errors "
        f"(target zero errors, each ratio <= {TARGET_RATIO:.0f}) {'met' if ok else 'missed'}"
    )


if __name__ == "__main__":
    main()
