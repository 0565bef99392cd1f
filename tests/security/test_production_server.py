"""The production web server's settings (gunicorn.conf.py) and the database's prepared statements."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token

from apps.common.authentication import token_with_user_and_employee
from apps.evidence.api.rows import evidence_row
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import UserFactory

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


def _database_options(**env: str) -> str:
    code = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS', {}))"
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=os.environ | {"DATABASE_URL": "postgres://rc@db.example.com:5432/rc"} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


def test_postgresql_statements_are_prepared_unless_turned_off():
    assert "prepare_threshold" in _database_options()
    assert "prepare_threshold" not in _database_options(DB_PREPARED_STATEMENTS="0")


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_hot_statements_are_prepared_once_on_the_server_and_answer_as_before():
    item = EvidenceFactory()
    key = Token.objects.create(user=UserFactory()).key
    first = evidence_row(item.pk)
    for _ in range(3):
        assert evidence_row(item.pk) == first
        assert token_with_user_and_employee(key).key == key
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        prepared = cursor.fetchall()

    def runs(text: str) -> list[int]:
        return [count for statement, count in prepared if text in statement]

    assert runs('AS "has_correction"') == [4]  # the item's row: prepared once, run four times
    assert runs('"authtoken_token"."key" =') == [3]
