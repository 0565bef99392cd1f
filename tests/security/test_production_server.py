"""The production web server's settings (gunicorn.conf.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).with_name("gunicorn")


def gunicorn_config(**env: str) -> dict[str, str]:
    """The settings gunicorn would run with from the repository root, as it prints them."""
    environment = {
        key: value for key, value in os.environ.items() if key not in ("WEB_CONCURRENCY", "GUNICORN_TIMEOUT")
    }
    done = subprocess.run(
        [str(GUNICORN), "--print-config", "ritualcriteria.wsgi"],
        cwd=BASE_DIR,
        env=environment | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    pairs = (line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def test_gunicorn_runs_sync_workers_two_per_core_from_the_shipped_config():
    config = gunicorn_config()
    assert config["config"] == "./gunicorn.conf.py"
    assert config["worker_class"] == "sync"
    assert config["workers"] == str(2 * (os.cpu_count() or 1))
    assert config["timeout"] == "120"


def test_gunicorn_workers_and_timeout_follow_the_environment():
    config = gunicorn_config(WEB_CONCURRENCY="3", GUNICORN_TIMEOUT="45")
    assert (config["workers"], config["timeout"]) == ("3", "45")
