"""Benchmark of the pages a person waits on in a company of 100,000 employees, against the admin index of the same run.

Run from the repository root against a database of its own (it is flushed and re-seeded unless --keep):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rc_pages .venv/bin/python bench/pages.py --keep

Seeds the demo company with N employees (`seed_demo`, or reuses it with --keep) and, when it holds fewer than 100,000
open cases, opens a promotion cycle with a case for every active employee (the issue's company has about 130,000 open
cases; the seed opens a few thousand). It picks the people who wait: an HR
user (staff, HR group), a leader (Leadership group), a director (under the top of the company, the manager whose
subtree of reports is largest) and an employee with about a dozen evidence items. Then, in-process with Django's test
`Client` (`force_login`, DEBUG off, the CI settings), times every page and API list of issue 25 K times after one
warm-up, interleaved with the admin index (index, page, index, page, ...) so both share the machine's noise: the
dashboard's first screen and each drill-down table, the reports API, the admin changelists unfiltered and searched,
the evidence API's first page, page 200 and the 200th page of a cursor walk, the review queue, the employee's own
evidence, a case page, the summary CSV export, the policy preview's start page and its result page. The statements
of each page are counted on the warm-up (`CaptureQueriesContext`). Then it runs, each in a fresh process, a preview
job of a draft covering every open promotion case and the case-detail CSV export of the whole company as a job, and
reads each process's peak resident memory.

Stored dashboard figures are on, as in production (`REPORTS_SNAPSHOT_SECONDS=300`; the test settings turn them off),
and the bench plays beat's part: before a page, never inside a timed request, it recomputes them when they are 80%
of their serving age old, and prints how long each refresh took. "Refresh now" on the dashboard computes them in the
request: it is timed and printed, and left out of the verdict (a person asks for it explicitly).

Targets (issue 25): each page's median at most 10x the admin index's median; each worker's peak under 300 MB. The
last line is the verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ritualcriteria.settings.test")  # settings as in CI: DEBUG off
# Stored dashboard figures as in production (the test settings turn them off); the bench plays beat's part.
os.environ.setdefault("REPORTS_SNAPSHOT_SECONDS", "300")
# The broker the job requests publish to: a throw-away file-system queue unless REDIS_URL says otherwise.
os.environ.setdefault("RC_DATA_DIR", tempfile.mkdtemp(prefix="rc-bench-pages-"))

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.cases.models import Case  # noqa: E402
from apps.cases.preview import preview_job_request, preview_job_run  # noqa: E402
from apps.common.context import acting_as, system_actor  # noqa: E402
from apps.evidence.models import Evidence  # noqa: E402
from apps.org.models import Employee  # noqa: E402
from apps.org.selectors import reports_subtree_sql  # noqa: E402
from apps.policies.constants import VersionStatus  # noqa: E402
from apps.policies.models import PolicyVersion  # noqa: E402
from apps.policies.services import policy_version_create, requirement_add  # noqa: E402
from apps.reports.filters import ReportFilters  # noqa: E402
from apps.reports.services import export_job_request, export_job_run, export_prepare  # noqa: E402
from apps.reports.snapshots import snapshots_refresh  # noqa: E402
from apps.reports.views.tables import DRILL_DOWNS  # noqa: E402

TARGET_EMPLOYEES = 100_000
# The company has about 130,000 open cases; the demo seed opens a few thousand, so the bench adds a promotion
# cycle with a case for every active employee (once; --keep reuses it).
TARGET_OPEN_CASES = 100_000
OPEN_CHUNK = 10_000
TARGET_RATIO = 10.0
TARGET_PEAK_MB = 300.0
DRAFT_NOTE = "bench/pages: the promotion baseline plus one sourced customer quote"


@dataclass
class Page:
    """One page or API list as one person asks for it, with its timings and statement count."""

    label: str
    who: str
    url: str
    method: str = "get"
    data: dict[str, Any] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    statements: int = 0
    status: int = 0
    size: int = 0
    in_verdict: bool = True  # False: a page that computes on demand at the person's explicit request


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=TARGET_EMPLOYEES, help="employees (default 100000)")
    parser.add_argument("--keep", action="store_true", help="reuse the seeded company if the database has it")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per page after a warm-up (default 5)")
    args = parser.parse_args()
    print(f"database: {connection.vendor}; python {platform.python_version()} on {platform.machine()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")

    call_command("migrate", interactive=False, verbosity=0)  # a new database gets the schema first
    with acting_as(system_actor("bench.pages")):
        started = time.perf_counter()
        if not (args.keep and Employee.objects.count() >= args.employees):
            call_command("flush", interactive=False, verbosity=0)
            _restore_catalogue()
            call_command("seed_demo", employees=args.employees, verbosity=0)
            print(f"seed: {Employee.objects.count():,} employees in {time.perf_counter() - started:.1f} s")
        else:
            print(f"seed: reused ({Employee.objects.count():,} employees)")
        if Case.objects.open().count() < TARGET_OPEN_CASES:
            _open_company_cycle()
        print(
            f"data: {Evidence.objects.count():,} evidence items, {Case.objects.count():,} cases "
            f"({Case.objects.open().count():,} open)"
        )
        people = _people()
        draft = _draft(people["hr"])
    for role, user in people.items():
        print(f"  {role}: {user.username} {_describe(role, user)}")

    clients = {}
    for role, user in people.items():
        client = Client()
        client.force_login(user)
        clients[role] = client
    pages = _pages(people, draft, clients["hr"])
    index = Page("admin index (HR home)", "hr", reverse("admin:index"))

    beat = Beat()
    for page in pages:
        beat.tick()
        _measure(page, index, clients, args.repeat)
        print(_row(page, None), flush=True)

    print("workers (each in a fresh process):")
    with acting_as(system_actor("bench.pages")):
        preview_job = _queued(lambda: preview_job_request(version=draft, by=people["hr"], today=timezone.localdate()))
        export = export_prepare(kind="cases", export_format="csv", filters=ReportFilters(), today=timezone.localdate())
        export_job = _queued(lambda: export_job_request(by=people["hr"], export=export))
    preview = _run_child("preview", preview_job.pk)
    print(
        f"  preview job of {draft} over {preview['total']:,} open cases: {preview['seconds']:.1f} s, "
        f"{preview['flips']:,} flips, peak {preview['peak_mb']:.0f} MB"
    )
    exported = _run_child("export", export_job.pk)
    print(
        f"  case-detail CSV export job ({export.rows:,} rows estimated): {exported['seconds']:.1f} s, "
        f"{exported['rows']:,} rows, peak {exported['peak_mb']:.0f} MB"
    )
    result = Page("preview job result page", "hr", reverse("admin:cases_case_preview_job", args=[preview_job.pk]))
    _measure(result, index, clients, args.repeat)
    pages.append(result)

    reference = statistics.median(index.times)
    print()
    print(f"admin index: median {reference * 1000:.0f} ms over {len(index.times)} requests, {index.statements} stmts")
    print(f"{'page':58} {'who':9} {'status':>6} {'median ms':>9} {'max ms':>7} {'x index':>7} {'stmts':>5} {'KB':>6}")
    for page in pages:
        print(_row(page, reference))
    print(f"load average at end: {os.getloadavg()[0]:.2f}")

    print(f"stored dashboard figures (beat's job, off the request): {beat.describe()}")
    ratios = [(statistics.median(p.times) / reference, p) for p in pages if p.in_verdict]
    worst_ratio, worst = max(ratios, key=lambda pair: pair[0])
    broken = [p for p in pages if p.status >= 400]
    for page in broken:
        print(f"ERROR: {page.label} answered {page.status}")
    met = (
        worst_ratio <= TARGET_RATIO
        and not broken
        and preview["peak_mb"] < TARGET_PEAK_MB
        and exported["peak_mb"] < TARGET_PEAK_MB
        and Employee.objects.count() >= TARGET_EMPLOYEES
    )
    print(
        f"pages: {len(pages)} pages, worst {worst.label} ({worst.who}) {worst_ratio:.1f}x the admin index "
        f"(target <= {TARGET_RATIO:.0f}x), preview peak {preview['peak_mb']:.0f} MB, export peak "
        f"{exported['peak_mb']:.0f} MB (target < {TARGET_PEAK_MB:.0f} MB) {'met' if met else 'missed'}"
    )


def _open_company_cycle() -> None:
    """An open promotion cycle with a case for every active employee, opened 10,000 at a time (each batch its own
    transaction, evaluated and stored as HR's opening would)."""
    import datetime as dt

    from django.db import transaction

    from apps.cases.models import Cycle
    from apps.cases.services import case_open_many
    from apps.policies.models import RitualType

    started = time.perf_counter()
    today = timezone.localdate()
    cycle = Cycle.objects.create(
        ritual_type=RitualType.objects.get(code="promotion"),
        name=f"Bench pages: the whole company {time.strftime('%Y%m%d-%H%M%S')}",
        opens_on=today - dt.timedelta(days=10),
        evidence_deadline=today + dt.timedelta(days=30),
        decision_deadline=today + dt.timedelta(days=60),
    )
    people = list(Employee.objects.active().order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(people), OPEN_CHUNK):
        chunk = Employee.objects.filter(pk__in=people[start : start + OPEN_CHUNK])
        with transaction.atomic():
            case_open_many(cycle=cycle, subjects=[{"subject_employee": person} for person in chunk], today=today)
    print(f"open: {len(people):,} cases of {cycle.name} in {time.perf_counter() - started:.1f} s", flush=True)


class Beat:
    """Beat's part: recompute the stored dashboard figures before they age out (every 80% of their serving age), as
    the `reports.refresh_snapshots` schedule does in production, between pages and never inside a timed request."""

    def __init__(self) -> None:
        self.every = float(os.environ["REPORTS_SNAPSHOT_SECONDS"]) * 0.8
        self.last = -self.every
        self.runs: list[float] = []

    def tick(self) -> None:
        if time.perf_counter() - self.last < self.every:
            return
        started = time.perf_counter()
        with acting_as(system_actor("bench.pages")):
            computed = snapshots_refresh()
        self.last = time.perf_counter()
        self.runs.append(self.last - started)
        print(f"  (beat: {len(computed)} stored figure set(s) computed in {self.runs[-1]:.1f} s)", flush=True)

    def describe(self) -> str:
        if not self.runs:
            return "off"
        return f"{len(self.runs)} refreshes, {min(self.runs):.1f}-{max(self.runs):.1f} s each"


def _people() -> dict[str, User]:
    """HR, a leader, the director with the largest subtree under the top of the company, an employee with ~12 items.

    The seed gives logins to a handful of personas only: the director and the employee get a login of their own
    (created once, kept for --keep runs) when theirs is missing.
    """
    hr = User.objects.filter(is_staff=True, is_active=True, groups__name="HR").order_by("pk").first()
    leader = User.objects.filter(is_active=True, groups__name="Leadership").order_by("pk").first()
    top = Employee.objects.filter(manager__isnull=True).values_list("pk", flat=True)
    sizes = {
        pk: Employee.objects.filter(pk__in=reports_subtree_sql(pk)).count()
        for pk in Employee.objects.filter(manager__in=top).order_by("pk").values_list("pk", flat=True)
    }
    counts = (
        Evidence.objects.values("owner")
        .annotate(n=Count("pk"))
        .filter(n__gte=8, n__lte=16)
        .order_by("owner")
        .values_list("owner", "n")[:500]
    )
    owners = sorted(counts, key=lambda pair: (abs(pair[1] - 12), pair[0]))[:1]
    if hr is None or leader is None or not sizes or not owners:
        sys.exit("pages: the database lacks HR, a leader, managers or an employee with a dozen items; seed it first")
    director = Employee.objects.get(pk=max(sizes, key=lambda pk: sizes[pk]))
    return {
        "hr": hr,
        "leader": leader,
        "director": _login_for(director, "bench-director"),
        "employee": _login_for(Employee.objects.get(pk=owners[0][0]), "bench-employee"),
    }


def _login_for(employee: Employee, username: str) -> User:
    """The employee's login, or a new one linked to the employee (as SCIM or HR would link it)."""
    if employee.user is not None:
        return employee.user
    user = User.objects.filter(username=username).first() or User.objects.create_user(username=username)
    employee.user = user
    employee.save(update_fields=["user"])
    return user


def _describe(role: str, user: User) -> str:
    employee = Employee.objects.filter(user=user).first()
    if employee is None:
        return ""
    if role == "director":
        return f"(manages {Employee.objects.filter(pk__in=reports_subtree_sql(employee.pk)).count():,} people)"
    if role == "employee":
        return f"({Evidence.objects.filter(owner=employee).count()} evidence items)"
    return ""


def _draft(hr: User) -> PolicyVersion:
    """A draft of the promotion baseline that adds a sourced customer quote: it covers every open promotion case."""
    baseline = (
        PolicyVersion.objects.filter(policy__ritual_type__code="promotion", policy__scope__isnull=True)
        .filter(status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )
    assert baseline is not None, "no published promotion baseline"
    draft = PolicyVersion.objects.filter(policy=baseline.policy, notes=DRAFT_NOTE).order_by("-pk").first()
    if draft is None:
        draft = policy_version_create(
            policy=baseline.policy, effective_from=timezone.localdate(), by=hr, notes=DRAFT_NOTE
        )
        for requirement in baseline.requirements.order_by("order"):
            requirement_add(version=draft, kind=requirement.kind, params=requirement.params, label=requirement.label)
        requirement_add(version=draft, kind="customer_voice", params={"count": 1}, label="One sourced quote")
    return draft


def _pages(people: dict[str, User], draft: PolicyVersion, hr_client: Client) -> list[Page]:
    employee = Employee.objects.get(user=people["employee"])
    case = Case.objects.filter(subject_employee=employee).order_by("-pk").first() or Case.objects.order_by("pk").last()
    assert case is not None
    term = employee.full_name.split()[-1]
    pages = [
        Page("dashboard, first screen", "hr", reverse("reports:dashboard")),
        Page("dashboard, first screen", "leader", reverse("reports:dashboard")),
        Page(
            "dashboard, Refresh now (on demand; not in the verdict)",
            "leader",
            f"{reverse('reports:dashboard')}?refresh=1",
            in_verdict=False,
        ),
        *(Page(f"/reports/{slug}/", "leader", reverse("reports:table", args=[slug])) for slug in DRILL_DOWNS),
        *(
            Page(f"API {name}", "leader", reverse(f"reports_api:{name}"))
            for name in ("compliance", "evidence-mix", "review-health", "boundary", "inventory", "unmet-requirements")
        ),
    ]
    for model, search in (
        ("evidence_evidence", "customer"),
        ("cases_case", term),
        ("audit_auditevent", "Evidence"),
        ("reminders_reminder", term),
        ("org_employee", term),
    ):
        url = reverse(f"admin:{model}_changelist")
        pages += [
            Page(f"admin {model} list", "hr", url),
            Page(f"admin {model} search {search!r}", "hr", f"{url}?q={search}"),
        ]
    evidence_api = reverse("evidence_api:evidence-list")
    pages += [
        Page("API evidence, first page", "hr", evidence_api),
        Page("API evidence, page=200", "hr", f"{evidence_api}?page=200"),
        Page("API evidence, cursor walk's 200th page", "hr", _cursor_page(hr_client, evidence_api, 200)),
        Page("API evidence, first page", "leader", evidence_api),
        Page("API evidence, first page", "director", evidence_api),
        Page("API evidence, first page", "employee", evidence_api),
        Page("API cases, first page", "hr", reverse("cases_api:case-list")),
        Page("API review queue", "director", reverse("evidence_api:review-queue-list")),
        Page("review queue", "hr", reverse("portal:review-queue")),
        Page("review queue", "director", reverse("portal:review-queue")),
        Page("my evidence", "employee", reverse("portal:my-evidence")),
        Page("my cases", "employee", reverse("portal:my-cases")),
        Page("case page", "hr", reverse("portal:case-detail", args=[case.pk])),
        Page(
            "export summary.csv (inline or job)", "leader", reverse("reports:export", args=["summary", "csv"]), "post"
        ),
        Page("preview start page (draft)", "hr", reverse("admin:cases_case_preview", args=[draft.pk])),
    ]
    return pages


def _cursor_page(client: Client, url: str, number: int) -> str:
    """The URL of the `number`th page of a cursor walk (following `next`), walked once, untimed."""
    page = f"{url}?cursor="
    for _ in range(number - 1):
        answer = client.get(page).json()
        if not answer.get("next"):
            break
        page = answer["next"].removeprefix("http://testserver")
    return page


def _fetch(client: Client, page: Page) -> tuple[int, int]:
    response = client.post(page.url, page.data) if page.method == "post" else client.get(page.url)
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return response.status_code, len(body)


def _timed(client: Client, page: Page) -> float:
    started = time.perf_counter()
    page.status, page.size = _fetch(client, page)
    return time.perf_counter() - started


def _measure(page: Page, index: Page, clients: dict[str, Client], repeat: int) -> None:
    """A warm-up (counting statements), then `repeat` rounds of index then page."""
    with CaptureQueriesContext(connection) as queries:
        _fetch(clients[page.who], page)
    page.statements = len(queries)
    if not index.statements:
        with CaptureQueriesContext(connection) as queries:
            _fetch(clients[index.who], index)
        index.statements = len(queries)
    for _ in range(repeat):
        index.times.append(_timed(clients[index.who], index))
        page.times.append(_timed(clients[page.who], page))


def _row(page: Page, reference: float | None) -> str:
    median = statistics.median(page.times)
    ratio = f"{median / reference:7.1f}" if reference else "      -"
    return (
        f"{page.label[:58]:58} {page.who:9} {page.status:6} {median * 1000:9.0f} {max(page.times) * 1000:7.0f} "
        f"{ratio} {page.statements:5} {page.size / 1024:6.0f}"
    )


def _queued(request: Any) -> Any:
    """A job requested in a committed transaction (its Celery message goes to the bench's throw-away broker)."""
    from django.db import transaction

    with transaction.atomic():
        return request()


def _run_child(kind: str, job_id: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(job_id)]
    done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        sys.exit(f"pages: the {kind} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(kind: str, job_id: int) -> None:
    """Run one job as a worker would, and print its figures and the process's peak memory as JSON."""
    started = time.perf_counter()
    with acting_as(system_actor("bench.pages")):
        if kind == "preview":
            job = preview_job_run(job_id=job_id)
            assert job is not None
            figures = {
                "total": job.total or 0,
                "flips": job.flip_rows.count(),
                "status": job.status,
                "error": job.error,
            }
        else:
            export = export_job_run(job_id=job_id)
            assert export is not None
            figures = {"rows": export.rows_written or 0, "status": export.status, "error": export.error}
    figures["seconds"] = time.perf_counter() - started
    figures["peak_mb"] = _peak_mb()
    print(json.dumps(figures))


def _peak_mb() -> float:
    """The process's peak resident memory in MB: VmHWM of /proc/self/status (it starts afresh at exec, unlike
    getrusage's ru_maxrss, which a child may inherit from its parent), else ru_maxrss."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _restore_catalogue() -> None:
    """flush empties the rows the data migrations created; put them back."""
    import importlib

    from django.apps import apps

    importlib.import_module("apps.policies.migrations.0002_builtin_rituals_and_categories").create(apps, None)


if __name__ == "__main__":
    main()
