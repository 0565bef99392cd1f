"""Instructions the web process spends on the load test's requests, counted by valgrind: the same figure on every run.

Timings on this shared 2-core machine move by a third from one hour to the next, more than most single changes
save; an instruction count does not. Run from the repository root against a PostgreSQL database of its own (the
one of bench/request_profile.py will do), with valgrind installed:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rc_profile REDIS_URL=redis://127.0.0.1:6379/8 \
        python bench/request_instructions.py [--kind pair|list|healthz] [--units 50]

It runs itself twice under `valgrind --tool=callgrind`, each time with 20 unmeasured units first, then `--base`
(10) units, then 10 + `--units`; the difference of the two totals divided by `--units` is the web process's
user-space instructions a unit, whatever the start-up cost:
  pair     POST /api/evidence/ then POST /api/evidence/{id}/submit/ (the load test's write pair)
  list     GET /api/evidence/ (50 items a page)
  healthz  GET /healthz
Requests go straight to Django's WSGI application as gunicorn hands them over (production settings, every
middleware, the request signals and the per-request database health check), one at a time. Not counted: the
kernel (system calls, so neither the round trips nor the sockets), the database server and the broker. To compare
two checkouts, run each one's own copy from its own root, one after the other (two at once disturb each other's
reminders). The same commit gives the same figure to within about 0.01 %; a change in data (more rows, the
reviewers' sending hours) moves it a little, so compare runs made close together. Runs take a few minutes.
This is a measuring tool, not a test.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 20
CHILD = "RC_INSTRUCTIONS_UNITS"


def drive(kind: str, units: int) -> None:
    """Run `units` units of `kind` (after the warm-up) through the WSGI application, in this process."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import load  # bench/load.py: the same settings, seed and request body

    os.environ.update(load.server_env(0))
    os.environ.setdefault("RC_DATA_DIR", tempfile.mkdtemp(prefix="rc-request-instructions-"))
    Path(os.environ["RC_DATA_DIR"], "static").mkdir(parents=True, exist_ok=True)
    token = load.seed(1)[0]
    from ritualcriteria.wsgi import application

    def call(method: str, path: str, body: bytes = b"") -> tuple[str, bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Token {token}",
            "HTTP_ACCEPT": "application/json",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status: list[str] = []
        response = application(environ, lambda line, headers, exc_info=None: status.append(line))
        try:
            content = b"".join(response)
        finally:
            response.close()  # request_finished, as gunicorn sends it
        return status[0], content

    draft = load.DRAFT_BODY.encode()

    def pair() -> None:
        status, content = call("POST", "/api/evidence/", draft)
        if not status.startswith("201"):
            raise SystemExit(f"create answered {status}: {content[:300]!r}")
        status, content = call("POST", f"/api/evidence/{json.loads(content)['id']}/submit/")
        if not status.startswith("200"):
            raise SystemExit(f"submit answered {status}: {content[:300]!r}")

    def get(path: str) -> Callable[[], None]:
        def request() -> None:
            status, content = call("GET", path)
            if not status.startswith("200"):
                raise SystemExit(f"GET {path} answered {status}: {content[:300]!r}")

        return request

    unit = {"pair": pair, "list": get("/api/evidence/"), "healthz": get("/healthz")}[kind]
    for _ in range(WARMUP + units):
        unit()


def counted(kind: str, units: int) -> int:
    """Total instructions of a run of this script with `units` measured units, under callgrind."""
    env = dict(os.environ)
    env.update(
        {
            CHILD: str(units),
            "PYTHONHASHSEED": "0",  # the same dict and set layouts every run
            "REMINDERS_PUBLISH_TIMEOUT": "120",  # ten times slower under valgrind: no broker timeouts
            "DB_CONN_MAX_AGE": "7200",  # nor a database connection reopened halfway
        }
    )
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        str(Path(__file__).resolve()),
        f"--kind={kind}",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"the run under valgrind failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("pair", "list", "healthz"), default="pair")
    parser.add_argument("--units", type=int, default=50, help="measured units (default 50)")
    parser.add_argument("--base", type=int, default=10, help="units of the shorter run (default 10)")
    args = parser.parse_args()
    if CHILD in os.environ:
        drive(args.kind, int(os.environ[CHILD]))
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit(
            "Set DATABASE_URL to a PostgreSQL database of its own, e.g. postgres://...@127.0.0.1/rc_profile"
        )
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")
    if args.units < 1 or args.base < 0:
        parser.error("--units must be at least 1 and --base at least 0")
    short = counted(args.kind, args.base)
    long = counted(args.kind, args.base + args.units)
    per_unit = (long - short) / args.units
    print(
        f"{args.kind}: {per_unit / 1e6:.3f} M instructions a unit in the web process "
        f"({args.units} units: {long:,} - {short:,} instructions; commit {_commit()})"
    )


def _commit() -> str:
    git = shutil.which("git")
    if git is None:
        return "unknown"
    done = subprocess.run(  # noqa: S603 - git itself, fixed arguments
        [git, "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


if __name__ == "__main__":
    main()
