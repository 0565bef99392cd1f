"""Failed-login lockout on every way in (portal, admin, API Basic auth), its audit events, cookies and deploy checks."""

from __future__ import annotations

import base64
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from apps.audit.constants import AuditAction
from apps.audit.models import AuditEvent
from tests.factories.org import EmployeeFactory, UserFactory

PASSWORD = "correct-horse-battery"
BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def dana(db):
    user = UserFactory(username="dana", is_staff=True)
    EmployeeFactory(user=user)
    return user


def portal_login(client: Client, password: str, *, ip: str = "203.0.113.9", username: str = "dana"):
    return client.post(reverse("portal:login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def admin_login(client: Client, password: str, *, ip: str = "203.0.113.9"):
    return client.post(reverse("admin:login"), {"username": "dana", "password": password}, REMOTE_ADDR=ip)


def basic(password: str, username: str = "dana") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def failed_logins() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("id"))


def test_portal_sign_in_locks_out_after_the_failure_limit_even_with_the_right_password(client, dana):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = portal_login(client, "wrong")
        assert response.status_code == 200
        assert b"data-lockout" not in response.content

    locking = portal_login(client, "wrong")
    assert locking.status_code == 429
    assert b"Too many failed sign-ins" in locking.content
    assert locking["Retry-After"] == str(15 * 60)

    refused = portal_login(client, PASSWORD)
    assert refused.status_code == 429
    assert b"Too many failed sign-ins" in refused.content
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_user_name_and_address(client, dana):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        portal_login(client, "wrong")

    # The same person from another address, and another person from the locked address, still get in.
    assert portal_login(Client(), PASSWORD, ip="198.51.100.20").status_code == 302
    UserFactory(username="colleague")
    assert portal_login(Client(), PASSWORD, username="colleague").status_code == 302


def test_lockout_ends_after_the_cool_off(client, dana):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        portal_login(client, "wrong")
    assert portal_login(client, PASSWORD).status_code == 429

    with time_machine.travel(dt.datetime.now(dt.UTC) + settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=5)):
        response = portal_login(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(dana.pk)


def test_a_successful_sign_in_resets_the_count(client, dana):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        portal_login(client, "wrong")
    assert portal_login(client, PASSWORD).status_code == 302
    client.post(reverse("portal:logout"))

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert portal_login(client, "wrong").status_code == 200


def test_admin_sign_in_locks_out_too(client, dana):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, "wrong")

    response = admin_login(client, PASSWORD)

    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert client.get(reverse("admin:index")).status_code == 302  # still not signed in


def test_api_basic_auth_locks_out_with_a_json_429(client, dana):
    url = reverse("evidence_api:evidence-list")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.get(url, HTTP_AUTHORIZATION=basic("wrong")).status_code == 401

    locking = client.get(url, HTTP_AUTHORIZATION=basic("wrong"))
    refused = client.get(url, HTTP_AUTHORIZATION=basic(PASSWORD))

    assert (locking.status_code, refused.status_code) == (429, 429)
    assert "Too many failed sign-ins" in refused.json()["detail"]
    assert refused["Retry-After"] == str(15 * 60)
    assert client.get(url, HTTP_AUTHORIZATION=basic(PASSWORD), REMOTE_ADDR="198.51.100.20").status_code == 200


def test_every_failed_attempt_is_audited_and_the_lockout_is_marked(client, dana):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit):
        portal_login(client, "wrong-password")
    portal_login(client, PASSWORD)  # refused during the lockout

    events = failed_logins()
    assert len(events) == limit + 1
    assert all(e.context["username"] == "dana" and e.actor_ip == "203.0.113.9" for e in events)
    assert [e.context.get("locked_out", False) for e in events] == [False] * (limit - 1) + [True, True]
    assert events[limit - 1].context["failures"] == limit
    assert not any("wrong-password" in str(e.context) or PASSWORD in str(e.context) for e in events)
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()


def test_failed_attempts_are_stored_without_the_password(client, dana):
    portal_login(client, "hunter2-secret")

    attempt = AccessAttempt.objects.get()
    assert "hunter2-secret" not in attempt.post_data
    assert attempt.ip_address == "203.0.113.9"


def test_axes_runs_before_the_audit_trail_so_the_audit_sees_the_lockout():
    apps = settings.INSTALLED_APPS
    assert apps.index("axes") < apps.index("apps.audit")
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AUTHENTICATION_BACKENDS[0] == "apps.common.login_protection.RequestAwareAxesBackend"


def test_session_and_csrf_cookies_are_http_only_and_same_site_lax(client, dana):
    page = client.get(reverse("portal:login"))
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"

    portal_login(client, PASSWORD)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert 0 < settings.SESSION_COOKIE_AGE <= 12 * 3600


def test_the_portal_form_still_works_with_an_http_only_csrf_cookie(dana):
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("portal:login"))
    token = page.context["csrf_token"]

    response = client.post(
        reverse("portal:login"), {"username": "dana", "password": PASSWORD, "csrfmiddlewaretoken": str(token)}
    )

    assert response.status_code == 302


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="ritualcriteria.settings.production",
        SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        AUDIT_CHAIN_KEY="a-long-random-audit-chain-key-" + "k" * 40,
        ALLOWED_HOSTS="rc.example.com",
        **extra,
    )
    return env


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings():
    done = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_cookies_are_secure_and_hsts_preload_is_an_explicit_choice():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_HTTPONLY,"
        " s.SECURE_HSTS_PRELOAD, 'security.W021' in s.SILENCED_SYSTEM_CHECKS)"
    )
    default = run_manage("shell", "-c", code, env=production_env())
    preload = run_manage("shell", "-c", code, env=production_env(SECURE_HSTS_PRELOAD="1"))

    # `shell` may first say how many objects it imported; the answer is the last line.
    assert default.stdout.splitlines()[-1].split() == ["True", "True", "True", "True", "False", "True"], default.stderr
    assert preload.stdout.splitlines()[-1].split() == ["True", "True", "True", "True", "True", "False"], preload.stderr
