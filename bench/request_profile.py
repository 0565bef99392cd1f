"""Per-request CPU and queries of the load test's endpoints, in-process (no HTTP, no gunicorn, one at a time).

Run from the repository root against a PostgreSQL database of its own (migrated and seeded here, reused next time):

    createdb -h 127.0.0.1 -U postgres rc_profile
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rc_profile REDIS_URL=redis://127.0.0.1:6379/8 \
        python bench/request_profile.py [--requests 200] [--profile list] [--top 30]

The server's settings are those of bench/load.py (production, DEBUG off, every middleware). Each request goes
through Django's test Client with a token, as a load-test client sends it. For each endpoint it prints the median
and p90 CPU time of one request (time.process_time: this process's CPU, so the database server's work is not in
it), the median wall time, and the queries per request:

  healthz      GET /healthz
  list         GET /api/evidence/ as a load-test employee (the bench's data: 50 items a page), as the load
               test sends it
  list-rich    GET /api/evidence/ as an employee whose items have files, flags and every status
  list-manager GET /api/evidence/ as their manager (submitted items: the review rights of the page's owners)
  create       POST /api/evidence/ (a new draft)
  submit       POST /api/evidence/{id}/submit/ (that draft)

--profile NAME prints cProfile's top functions (cumulative and own time) over that endpoint's requests, and
--queries NAME prints the SQL of one request of it, each statement with its median wall time: where the CPU goes.
The "db cpu" column is the database server process's CPU a request (PostgreSQL). This is a measuring tool, not a
test.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402 - bench/load.py: the same settings, seed and request bodies
from proc_cpu import database_server_cpu  # noqa: E402 - bench/proc_cpu.py

RICH_ITEMS = 60


@dataclass
class Sample:
    """CPU and wall seconds and query counts of one endpoint's requests."""

    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)
    server_cpu: float = 0.0  # the database server process's CPU over all of them (PostgreSQL)


class QueryCounter:
    """A database execute wrapper counting statements (and keeping the last request's SQL and wall times)."""

    def __init__(self) -> None:
        self.count = 0
        self.sql: list[tuple[str, float]] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql.append((sql, time.perf_counter() - started))


def seed_rich() -> tuple[str, str]:
    """An employee with files, flags and items in every status, under the load manager; return both tokens."""
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from rest_framework.authtoken.models import Token

    from apps.common.context import acting_as, system_actor
    from apps.evidence.models import Evidence
    from apps.evidence.services import attachment_add, evidence_create, evidence_submit, evidence_verify
    from apps.org.models import Employee
    from apps.policies.models import EvidenceCategory

    users = get_user_model()
    boss = Employee.objects.select_related("user").get(employee_number="LOAD-MGR")
    user, _ = users.objects.get_or_create(username="profile-rich")
    with acting_as(system_actor("bench.request_profile")):
        employee, created = Employee.objects.get_or_create(
            user=user,
            defaults={
                "full_name": "Profile Rich",
                "email": "profile-rich@example.com",
                "employee_number": "PROFILE-RICH",
                "org_unit": boss.org_unit,
                "job_function": boss.job_function,
                "manager": boss,
            },
        )
        if created or not Evidence.objects.filter(owner=employee).exists():
            category = EvidenceCategory.objects.get(code="customer_story")
            for i in range(RICH_ITEMS):
                fields = load.draft_fields(category, f"Rich item {i}")
                if i % 5 == 0:
                    fields["customer_quote"] = "Would you give us a 10 out of 10 on the survey?"
                item = evidence_create(by=user, data=fields)
                for n in range(i % 3):
                    content = ContentFile(f"Call notes {i}.{n}\n".encode(), name=f"notes-{n}.txt")
                    attachment_add(evidence=item, by=user, file=content, name=content.name, size=content.size)
                if i % 4 in (1, 2, 3):
                    item = evidence_submit(evidence=item, by=user)
                if i % 4 == 2:
                    evidence_verify(evidence=item, by=boss.user, acknowledge_flags=True)
    return Token.objects.get_or_create(user=user)[0].key, Token.objects.get_or_create(user=boss.user)[0].key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="measured requests per endpoint (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests first (default 20)")
    parser.add_argument("--profile", default="", help="endpoint to profile with cProfile")
    parser.add_argument("--top", type=int, default=30, help="functions to show with --profile")
    parser.add_argument("--queries", default="", help="endpoint whose SQL to print (one request)")
    parser.add_argument("--only", default="", help="comma-separated endpoints to measure (default all)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit(
            "Set DATABASE_URL to a PostgreSQL database of its own, e.g. postgres://...@127.0.0.1/rc_profile"
        )
    os.environ.update(load.server_env(0))
    # Attachments of the rich seed go to a folder of this run, not the checkout's data folder.
    os.environ.setdefault("RC_DATA_DIR", tempfile.mkdtemp(prefix="rc-request-profile-"))
    Path(os.environ["RC_DATA_DIR"], "static").mkdir(parents=True, exist_ok=True)

    tokens = load.seed(1)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    rich_token, manager_token = seed_rich()
    client = Client(HTTP_HOST="127.0.0.1")

    def auth(token: str) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Token {token}", "HTTP_ACCEPT": "application/json"}

    drafts: list[int] = []

    def healthz() -> int:
        return client.get("/healthz").status_code

    def list_as(token: str) -> Callable[[], int]:
        def list_page() -> int:
            return client.get("/api/evidence/", **auth(token)).status_code

        return list_page

    def create() -> int:
        response = client.post("/api/evidence/", load.DRAFT_BODY, content_type="application/json", **auth(tokens[0]))
        if response.status_code == 201:
            drafts.append(response.json()["id"])
        return response.status_code

    def submit() -> int:
        return client.post(f"/api/evidence/{drafts.pop()}/submit/", **auth(tokens[0])).status_code

    endpoints: dict[str, Callable[[], int]] = {
        "healthz": healthz,
        "list": list_as(tokens[0]),
        "list-rich": list_as(rich_token),
        "list-manager": list_as(manager_token),
        "create": create,
        "submit": submit,
    }
    wanted = [name for name in (args.only.split(",") if args.only else endpoints) if name]
    if "submit" in wanted and "create" not in wanted:
        wanted.insert(wanted.index("submit"), "create")
    counter = QueryCounter()
    statements: list[list[tuple[str, float]]] = []  # --queries: each measured request's statements
    results: dict[str, Sample] = {name: Sample() for name in wanted}
    # create and submit alternate, as a load-test client sends them, so each submit has a fresh draft.
    rounds = [[name] for name in wanted if name not in ("create", "submit")]
    if "create" in wanted:
        rounds.append(["create", "submit"] if "submit" in wanted else ["create"])
    with connection.execute_wrapper(counter):
        for name in wanted:
            for _ in range(args.warmup):
                endpoints[name]()
        for names in rounds:
            for _ in range(args.requests):
                for name in names:
                    counter.count, counter.sql = 0, []
                    server = database_server_cpu(connection)
                    cpu, wall = time.process_time(), time.perf_counter()
                    status = endpoints[name]()
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                    sample = results[name]
                    sample.server_cpu += database_server_cpu(connection) - server
                    sample.cpu.append(cpu)
                    sample.wall.append(wall)
                    sample.queries.append(counter.count)
                    sample.statuses.add(status)
                    if name == args.queries:
                        statements.append(counter.sql)

    if statements:
        print_statements(args.queries, statements)
    print(f"\n{args.requests} requests per endpoint after {args.warmup} unmeasured ones; one at a time, in-process")
    columns = ("cpu p50", "cpu p90", "db cpu", "wall p50")
    print(f"{'endpoint':<13} {' '.join(f'{c:>9}' for c in columns)} {'queries':>8}  status  req/s/core")
    for name, sample in results.items():
        cpu50 = statistics.median(sample.cpu) * 1000
        cpu90 = statistics.quantiles(sample.cpu, n=10)[-1] * 1000
        wall50 = statistics.median(sample.wall) * 1000
        queries = statistics.median(sample.queries)
        server = sample.server_cpu / len(sample.cpu) * 1000
        print(
            f"{name:<13} {cpu50:7.2f}ms {cpu90:7.2f}ms {server:7.2f}ms {wall50:7.2f}ms {queries:8.0f}  "
            f"{','.join(map(str, sorted(sample.statuses))):>6}  {1000 / cpu50:9.0f}"
        )
    if args.profile:
        profile(args.profile, endpoints, results[args.profile], args.requests, args.top)


def print_statements(name: str, requests: list[list[tuple[str, float]]]) -> None:
    """The SQL of the last request of `name`, each statement with its median wall time over the requests that ran
    the same statements (one client, so mostly the database server's time)."""

    def shape(request: list[tuple[str, float]]) -> list[str]:
        return [re.sub(r'"s\d+_x\d+"', '"<savepoint>"', sql) for sql, _ in request]

    last = shape(requests[-1])
    same = [request for request in requests if shape(request) == last]
    print(f"-- {name}: {len(last)} queries; median ms over {len(same)} requests with these statements")
    for index, sql in enumerate(last):
        median = statistics.median(request[index][1] for request in same) * 1000
        print(f"   {median:6.2f}  {sql[:300]}")


# Parts of a request, by the function that does them (file ending, function name); they may nest.
PARTS = (
    ("view, with DRF (all below)", "django/core/handlers/base.py", "_get_response"),
    ("  DRF token authentication", "rest_framework/views.py", "perform_authentication"),
    ("  visibility queryset (roles, employee)", "apps/evidence/permissions.py", "evidence_visible_to"),
    ("  get_object (the item, if visible)", "rest_framework/generics.py", "get_object"),
    ("  answer: the item read again", "apps/evidence/api/views.py", "item_response"),
    ("  filterset", "rest_framework/generics.py", "filter_queryset"),
    ("  pagination (count, page query)", "rest_framework/generics.py", "paginate_queryset"),
    ("  a page of items (EvidenceSerializer)", "apps/evidence/api/serializers.py", "to_representation"),
    ("  input validation (serializer)", "rest_framework/serializers.py", "is_valid"),
    ("  evidence_create service", "apps/evidence/services.py", "evidence_create"),
    ("  evidence_submit service", "apps/evidence/services.py", "evidence_submit"),
    ("    model validation", "django/db/models/base.py", "full_clean"),
    ("    audit capture: before save", "apps/audit/capture.py", "_before_save"),
    ("    audit capture: after save", "apps/audit/capture.py", "_after_save"),
    ("    audit_record (domain event)", "apps/audit/services.py", "audit_record"),
    ("    in-transaction hooks (reminders)", "apps/evidence/hooks.py", "evidence_event"),
    ("    commit", "django/db/backends/base/base.py", "commit"),
    ("    commit, audit events written first", "apps/audit/backends/__init__.py", "commit"),
    ("    after-commit hooks", "django/db/backends/base/base.py", "run_and_clear_commit_hooks"),
    ("  JSON rendering", "rest_framework/response.py", "rendered_content"),
    ("  healthz: database", "apps/common/health.py", "check_database"),
    ("  healthz: broker", "apps/common/health.py", "check_broker"),
    ("  healthz: worker heartbeat", "apps/common/health.py", "worker_heartbeat_age"),
)


def profile(name: str, endpoints: dict[str, Callable[[], int]], sample: Sample, requests: int, top: int) -> None:
    """Profile `name` (CPU time, not wall time) and print its parts scaled to its unprofiled median, then cProfile's
    top functions."""
    profiler = cProfile.Profile(time.process_time)
    for _ in range(requests):
        if name == "submit":
            endpoints["create"]()
        profiler.enable()
        endpoints[name]()
        profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    scale = statistics.median(sample.cpu) * 1000 / (total / requests)
    print(f"\n== {name}: CPU by part (ms a request, profiled shares scaled to the unprofiled median) ==")
    parts = {label: 0.0 for label, _, _ in PARTS}
    for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        for label, ending, wanted in PARTS:
            if function == wanted and filename.endswith(ending):
                parts[label] += cumulative
    print(f"  {'whole request':<44} {statistics.median(sample.cpu) * 1000:6.2f}")
    print(f"  {'middleware and Django around the view':<44} {(total - parts[PARTS[0][0]]) / requests * scale:6.2f}")
    for label, seconds in parts.items():
        if seconds:
            print(f"  {label:<44} {seconds / requests * scale:6.2f}")
    for sort in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(top)
        print(f"\n== cProfile of {name} (CPU seconds), by {sort} ==")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


if __name__ == "__main__":
    main()
