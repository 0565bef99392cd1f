"""Settings come from the environment and fail loudly when something vital is missing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from ritualcriteria.settings.env import email_config, env_bool, require_secret_key

ROOT = Path(__file__).resolve().parents[2]


def run_check(settings_module: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}}
    clean.update(env, DJANGO_SETTINGS_MODULE=settings_module)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_missing_secret_key_with_debug_off_is_a_clear_startup_error():
    result = run_check("ritualcriteria.settings.production", ALLOWED_HOSTS="hr.example.com")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_local_settings_with_debug_off_also_require_a_secret_key():
    result = run_check("ritualcriteria.settings.local", DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_start_with_secret_key_and_hosts():
    result = run_check(
        "ritualcriteria.settings.production",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="hr.example.com",
        AUDIT_CHAIN_KEY="k" * 40,
    )

    assert result.returncode == 0, result.stderr


def test_require_secret_key_allows_empty_key_only_with_debug():
    assert require_secret_key("", debug=True) == ""
    with pytest.raises(ImproperlyConfigured):
        require_secret_key("", debug=False)


def test_env_bool_rejects_ambiguous_values(monkeypatch):
    monkeypatch.setenv("RC_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="not a boolean"):
        env_bool("RC_FLAG", False)
    monkeypatch.setenv("RC_FLAG", "Yes")
    assert env_bool("RC_FLAG", False) is True


def test_email_url_smtp_with_tls_is_translated():
    config = email_config("smtp://mailer:s%40cret@smtp.example.com:2525?tls=1")

    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert config["EMAIL_HOST"] == "smtp.example.com"
    assert config["EMAIL_PORT"] == 2525
    assert config["EMAIL_HOST_PASSWORD"] == "s@cret"
    assert config["EMAIL_USE_TLS"] is True


def test_email_url_with_unknown_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="not supported"):
        email_config("carrier-pigeon://loft")
