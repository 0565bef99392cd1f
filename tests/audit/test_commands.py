"""The commands as an operator runs them: a separate process, its own database, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="uses a throw-away SQLite file database")
def test_a_command_acts_as_system_with_its_name_and_verify_audit_exits_non_zero_on_tampering(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ritualcriteria.settings.test", "RC_DATA_DIR": str(tmp_path)}
    env["AUDIT_CHECKPOINT_DIR"] = str(tmp_path / "checkpoints")
    env.pop("REDIS_URL", None)
    assert _manage("migrate", "--noinput", env=env).returncode == 0
    assert _manage("ensure_admin", env=env).returncode == 0
    sealed = _manage("seal_audit", env=env)
    assert sealed.returncode == 0 and "Sealed" in sealed.stdout, sealed.stderr
    assert "Checkpoint written: head" in sealed.stdout

    ok = _manage("verify_audit", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "chain intact" in ok.stdout
    script = "from apps.audit.models import AuditEvent as A; print(set(A.objects.values_list('actor_name', flat=True)))"
    actors = _manage("shell", "-c", script, env=env)
    assert "'system: manage.py ensure_admin'" in actors.stdout
    assert "'system: manage.py migrate'" not in actors.stdout  # migrations use historical models: not audited

    import sqlite3

    with sqlite3.connect(tmp_path / "ritualcriteria.sqlite3") as db:
        db.execute("UPDATE audit_event SET actor_name = 'someone else' WHERE id = 1")
    broken = _manage("verify_audit", env=env)
    assert broken.returncode == 1
    assert "BROKEN: rewritten or forged from 1: hash mismatch" in broken.stderr
